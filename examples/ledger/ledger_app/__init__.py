"""A small ledger application whose schema comes from Alembic migrations (see ../README.md)."""
