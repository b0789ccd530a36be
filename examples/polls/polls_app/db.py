"""The app's session factory; ``configure(engine)`` binds it when the app starts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker()


def configure(engine: sa.Engine) -> None:
    SessionLocal.configure(bind=engine)
