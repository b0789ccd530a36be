"""Alembic's environment for the ledger, in the shape pytest-demoseed needs.

- A connection handed in as ``config.attributes["connection"]`` (pytest-demoseed, or an app's own
  code) is used as it is: no engine of its own, no commit (the caller's transaction decides).
- No ``logging.config.fileConfig``: alembic.ini has no logging sections, and configuring logging
  from inside a test run would take pytest's log capture away.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from ledger_app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    run_migrations(config.attributes["connection"])
else:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url", ""))
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()
