"""``--create-database``: make the database a URL names when it does not exist yet.

The fixtures' backends already know how to reach a server's maintenance database with one-line
errors (:meth:`ServerBackend.admin`), list its databases and lock a name against a concurrent
claim; this module reuses them rather than speaking to the drivers again. It differs from the
backends' own ``create_database`` in two ways, both on purpose: an existing database is left
alone (the backends drop and recreate their scratch databases), and the new database gets no
demoseed marker, so no pytest run ever takes it for a crashed run's leftover and drops it: it
is the user's database from the moment it exists.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from pytest_demoseed.errors import ScenarioError, ServerError
from pytest_demoseed.storage.backends import SQLiteBackend, backend_for
from pytest_demoseed.storage.backends.server import ServerBackend, driver_message
from pytest_demoseed.storage.urls import parse_url, safe_url

__all__ = ["CreatedDatabase", "create_database_if_missing"]

#: What a user lacks when the server refuses CREATE DATABASE, per dialect.
_PRIVILEGE = {
    "postgresql": "the user needs CREATEDB (ALTER ROLE {user} CREATEDB)",
    "mysql": "the user needs the CREATE privilege (GRANT CREATE ON `{name}`.* TO {user})",
}


@dataclass(frozen=True)
class CreatedDatabase:
    """A database this call created; :meth:`drop` undoes it when the seed that needed it fails,
    so a failed ``seed --create-database`` leaves the server (or directory) as it was."""

    url: str
    path: Path | None = None

    def drop(self) -> None:
        """Remove it again; best effort (the seed's own error is the one to report)."""
        with suppress(Exception):
            if self.path is not None:
                SQLiteBackend().drop_database(self.url)
                return
            backend = backend_for(self.url)
            assert isinstance(backend, ServerBackend)
            with backend.admin(self.url) as conn:
                backend.drop_named(conn, backend.name_of(self.url))


def _text(url: str | URL) -> str:
    return url.render_as_string(hide_password=False) if isinstance(url, URL) else url


def create_database_if_missing(url: str | URL) -> CreatedDatabase | None:
    """Create the database ``url`` names if it does not exist; None if it already did.

    SQLite: an empty file (its directory must exist); an in-memory URL needs nothing.
    PostgreSQL and MariaDB: ``CREATE DATABASE`` through the maintenance connection, under the
    backends' name lock so two concurrent calls do not both try. Every failure is one line: a bad
    URL or missing driver (DatabaseUrlError), an unreachable server (ServerError), no right to
    create databases (ScenarioError naming the privilege).
    """
    text = _text(url)
    parsed = parse_url(text)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite(text, parsed)
    if not parsed.database:
        raise ScenarioError(f"{safe_url(parsed)} names no database to create: add /NAME to the URL")
    backend = backend_for(text)
    assert isinstance(backend, ServerBackend)
    name = backend.name_of(text)
    with backend.admin(text) as conn, backend._name_lock(conn, name):
        if name in backend.databases(conn):
            return None
        quoted = parsed.get_dialect()().identifier_preparer.quote(name)
        try:
            if backend.dialect_name == "postgresql":
                conn.execute(f"CREATE DATABASE {quoted}")
            else:
                with conn.cursor() as cursor:
                    cursor.execute(f"CREATE DATABASE {quoted}")
        except Exception as exc:
            if not backend.is_driver_error(exc):
                raise
            hint = _PRIVILEGE[backend.dialect_name].format(
                user=parsed.username or "(default user)", name=name
            )
            raise ServerError(
                f"cannot create database {name!r} on {safe_url(parsed)}: {driver_message(exc)} ({hint})"
            ) from None
    return CreatedDatabase(text)


def _create_sqlite(text: str, parsed: URL) -> CreatedDatabase | None:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or parsed.query.get("uri"):
        return None  # in memory, or a URI SQLite opens (and creates) itself
    backend = SQLiteBackend()
    backend.check_reachable(text)  # one line for a missing or read-only directory
    path = Path(database)
    if path.exists():
        return None
    path.touch()  # a zero-length file is an empty SQLite database
    return CreatedDatabase(text, path)
