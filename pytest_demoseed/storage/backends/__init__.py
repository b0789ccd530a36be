"""Where snapshots live, one module per backend behind one protocol (as xdist keeps ``scheduler/``).

``base`` holds the :class:`Backend` protocol, ``sqlite`` the file backend, ``server`` what the
PostgreSQL and MariaDB backends share (names, ownership markers, run leases, clean-up of crashed
runs), ``postgresql`` and ``mysql`` the two servers. :func:`backend_for` picks one from a URL.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.storage.backends.base import Backend
from pytest_demoseed.storage.backends.sqlite import SQLiteBackend

__all__ = ["Backend", "SQLiteBackend", "backend_for"]


def backend_for(url: str, *, run_id: str = "", reuse: bool = False) -> Backend:
    """The backend for ``url``'s dialect, or a ScenarioError naming the supported ones."""
    try:
        parsed = make_url(url)
        name = parsed.get_backend_name()
    except Exception:  # noqa: BLE001 - any parse failure is a bad URL for the user
        raise ScenarioError(f"cannot parse database URL {url!r}") from None
    if name == "sqlite":
        return SQLiteBackend(run_id, reuse=reuse, url=url)
    drivers = {
        "postgresql": ("psycopg", "postgresql"),
        "mysql": ("pymysql", "mysql"),
        "mariadb": ("pymysql", "mysql"),
    }
    if name in drivers:
        driver, extra = drivers[name]
        if parsed.get_driver_name() != driver:
            raise ScenarioError(
                f"{name} needs the {driver} driver: use {name}+{driver}://... "
                f"(pip install 'pytest-demoseed[{extra}]')"
            )
        try:
            if name == "postgresql":
                from pytest_demoseed.storage.backends.postgresql import PostgresBackend

                return PostgresBackend(run_id, reuse=reuse, url=url)
            from pytest_demoseed.storage.backends.mysql import MySQLBackend

            return MySQLBackend(run_id, reuse=reuse, url=url)
        except ImportError:
            raise ScenarioError(
                f"{driver} is not installed: pip install 'pytest-demoseed[{extra}]'"
            ) from None
    raise ScenarioError(f"unsupported database {name!r}: use sqlite, postgresql or mysql/mariadb")
