"""Which driver each backend speaks through, sync and async: tables and a text-only URL rewrite.

Light on purpose (no SQLAlchemy): the plugin's settings read it while pytest loads, and
:mod:`~pytest_demoseed.storage.urls` and :mod:`~pytest_demoseed.storage.async_engines` build on
the same tables, so one URL in either form names the same database everywhere.
"""

from __future__ import annotations

__all__ = ["ASYNC_DRIVERS", "ASYNC_ONLY", "FIXTURE_DRIVERS", "sync_form"]

#: The backends the fixtures' snapshot flow supports, with the one driver each speaks through.
FIXTURE_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}
#: The async driver each backend speaks through on the test's side. aiomysql for MySQL/MariaDB:
#: it is built on PyMySQL, the sync side's driver (same conversions, escaping and URL options).
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "aiomysql", "mariadb": "aiomysql"}
#: Drivers SQLAlchemy can only use through its asyncio layer: a URL naming one is an async URL.
ASYNC_ONLY = frozenset({*ASYNC_DRIVERS.values(), "asyncmy", "psycopg_async"})


def sync_form(url: str) -> str:
    """``postgresql+asyncpg://...`` -> ``postgresql+psycopg://...`` (the builder's driver of the
    same database); any other URL as given. Text only: the URL is checked where it is used."""
    scheme, sep, rest = url.partition("://")
    backend, _, driver = scheme.partition("+")
    if not sep or driver not in ASYNC_ONLY or backend not in FIXTURE_DRIVERS:
        return url
    return f"{backend}+{FIXTURE_DRIVERS[backend]}://{rest}"
