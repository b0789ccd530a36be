"""Where snapshots live, one module per backend behind one protocol (as xdist keeps ``scheduler/``).

``base`` holds the :class:`Backend` protocol, ``sqlite`` the file backend, ``server`` what the
PostgreSQL and MariaDB backends share (names, ownership markers, run leases, clean-up of crashed
runs), ``postgresql`` and ``mysql`` the two servers. :func:`backend_for` picks one from a URL.
"""

from __future__ import annotations

from pytest_demoseed.storage.backends.base import Backend
from pytest_demoseed.storage.backends.mysql import MySQLBackend
from pytest_demoseed.storage.backends.postgresql import PostgresBackend
from pytest_demoseed.storage.backends.sqlite import SQLiteBackend
from pytest_demoseed.storage.urls import parse_url

__all__ = ["Backend", "MySQLBackend", "PostgresBackend", "SQLiteBackend", "backend_for"]


def backend_for(url: str, *, run_id: str = "", reuse: bool = False) -> Backend:
    """The backend for ``url``'s dialect; a bad URL, an unsupported dialect or a driver that is
    not installed is a one-line DatabaseUrlError (see :func:`~pytest_demoseed.storage.urls.parse_url`)."""
    name = parse_url(url, fixtures=True).get_backend_name()
    if name == "sqlite":
        return SQLiteBackend(run_id, reuse=reuse, url=url)
    if name == "postgresql":
        return PostgresBackend(run_id, reuse=reuse, url=url)
    return MySQLBackend(run_id, reuse=reuse, url=url)
