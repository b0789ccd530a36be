"""A small async notes service over SQLAlchemy's AsyncSession, and its demo scenario."""
