"""Engines the plugin can trust with nested transactions, on every backend."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

from pytest_demoseed.storage.urls import safe_url

#: ``safe_url`` lives with the URL checks; it is importable from here, where callers found it.
__all__ = ["make_engine", "safe_url"]


def _fix_pysqlite(engine: sa.Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT and rollback; let SQLAlchemy drive.

    The recipe from SQLAlchemy's pysqlite notes ("Serializable isolation / Savepoints /
    Transactional DDL"), plus foreign keys switched on so bad keys fail here as elsewhere.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # on the driver's connection, not through a SQLAlchemy cursor: for aiosqlite one trip to
        # its thread instead of three (cursor, execute, close), ~0.1 ms of every async test
        dbapi_connection: Any = conn.connection.dbapi_connection
        if hasattr(dbapi_connection, "run_async"):  # SQLAlchemy's adapter of an asyncio driver
            dbapi_connection.run_async(lambda driver: driver.execute("BEGIN"))
        else:
            dbapi_connection.execute("BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """``create_engine`` with the per-dialect fixes the plugin's isolation relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("poolclass", sa.pool.NullPool)
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _fix_pysqlite(engine)
    return engine
