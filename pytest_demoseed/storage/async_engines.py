"""One URL, two drivers: the async form of a database URL for the test's side, the sync form for builds.

The snapshot flow and the builder stay synchronous (psycopg's COPY, PyMySQL's multi-row INSERT);
only what a test touches goes through an async driver: aiosqlite, asyncpg or aiomysql. A user
gives either form (``--demo-db-url``, or an ``AsyncEngine`` to ``seed()``) and the other is
derived here. A missing async driver (or greenlet, which SQLAlchemy's asyncio layer needs) is
one :class:`~pytest_demoseed.errors.DatabaseUrlError` line naming the extra that installs it.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from pytest_demoseed.errors import DatabaseUrlError
from pytest_demoseed.storage.drivers import ASYNC_DRIVERS, ASYNC_ONLY, FIXTURE_DRIVERS
from pytest_demoseed.storage.engines import _fix_pysqlite

if TYPE_CHECKING:  # SQLAlchemy's asyncio layer needs greenlet (the ``asyncio`` extra): not at import
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "EXTRA",
    "async_url",
    "check_async_driver",
    "make_async_engine",
    "sync_input",
    "sync_url",
]

#: What installs the async drivers.
EXTRA = "pip install 'pytest-demoseed[asyncio]'"


def _with_driver(url: str | URL, drivers: dict[str, str]) -> URL:
    parsed = make_url(url) if not isinstance(url, URL) else url
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise DatabaseUrlError(
            f"no async support for {backend!r} databases: use sqlite, postgresql or mysql/mariadb"
        )
    return parsed.set(drivername=f"{backend}+{drivers[backend]}")


def async_url(url: str | URL) -> URL:
    """``postgresql+psycopg://...`` -> ``postgresql+asyncpg://...`` (sqlite+aiosqlite, mysql+aiomysql)."""
    return _with_driver(url, ASYNC_DRIVERS)


def sync_url(url: str | URL) -> URL:
    """The inverse of :func:`async_url`: the driver the builder and snapshot flow use."""
    return _with_driver(url, FIXTURE_DRIVERS)


def check_async_driver(url: str | URL) -> None:
    """One line naming the extra if the async driver for ``url``'s backend (or greenlet) is missing."""
    target = async_url(url)
    driver = ASYNC_DRIVERS[target.get_backend_name()]
    if importlib.util.find_spec("greenlet") is None:  # SQLAlchemy's asyncio layer runs on it
        raise DatabaseUrlError(f"the async fixtures need greenlet, which is not installed: {EXTRA}")
    try:
        target.get_dialect().import_dbapi()
    except ImportError:
        raise DatabaseUrlError(
            f"the {driver} driver for {target.get_backend_name()} is not installed: {EXTRA}"
        ) from None


def make_async_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """``create_async_engine`` on the async form of ``url``, with the same per-dialect fixes as
    :func:`~pytest_demoseed.storage.engines.make_engine` (SQLite: SQLAlchemy drives BEGIN and
    SAVEPOINT, foreign keys on)."""
    # the asyncio layer needs greenlet (the ``asyncio`` extra): imported only when an async
    # engine is made, which check_async_driver has made sure is possible
    from sqlalchemy.ext.asyncio import create_async_engine

    target = async_url(url)
    engine = create_async_engine(target, **kwargs)
    if target.get_backend_name() == "sqlite":
        _fix_pysqlite(engine.sync_engine)
    return engine


def sync_input(engine_or_url: sa.Engine | AsyncEngine | str | URL) -> sa.Engine | str | URL:
    """What ``seed()`` builds through: an ``AsyncEngine`` or an async URL (``postgresql+asyncpg``,
    ``sqlite+aiosqlite``, ``mysql+aiomysql``/``asyncmy``) as the sync URL of the same database
    (password kept); anything else as given."""
    if isinstance(engine_or_url, sa.Engine):
        return engine_or_url
    if isinstance(engine_or_url, (str, URL)):
        try:
            parsed = make_url(engine_or_url)
        except Exception:  # noqa: BLE001 - reported, one line, where the URL is checked
            return engine_or_url
        if parsed.get_driver_name() in ASYNC_ONLY:
            return sync_url(parsed)
        return engine_or_url
    # an AsyncEngine, told by its sync side: importing its class would need greenlet
    return sync_url(engine_or_url.url)
