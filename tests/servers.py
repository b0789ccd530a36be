"""Database servers for the backend tests: which backends to run, and the skip-or-fail rule.

``DEMOSEED_TEST_BACKENDS`` (comma list of sqlite, postgresql, mariadb; default all three)
chooses the backends; tox sets one per environment. A server that cannot be reached skips its
tests with the reason shown, except under ``CI=true``, where it fails them: CI must not go green
by skipping the databases it is meant to test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pytest_demoseed.storage.backends import backend_for
from pytest_demoseed.storage.backends.server import Marker, ServerBackend

SERVERS = {
    "postgresql": os.environ.get("DEMOSEED_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432"),
    "mariadb": os.environ.get("DEMOSEED_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306"),
}
ALL = ("sqlite", "postgresql", "mariadb")


def selected_backends() -> list[str]:
    raw = os.environ.get("DEMOSEED_TEST_BACKENDS", ",".join(ALL))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ALL))
    if unknown:
        raise pytest.UsageError(f"DEMOSEED_TEST_BACKENDS: unknown {unknown}; valid: {', '.join(ALL)}")
    return chosen


def selected_servers() -> list[str]:
    """The selected backends that are servers (tests that make no sense on a SQLite file)."""
    return [name for name in selected_backends() if name != "sqlite"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_server(name: str) -> str:
    """The server's URL prefix; skip (or under CI=true fail) when it cannot be reached."""
    prefix = SERVERS[name]
    try:
        backend_for(f"{prefix}/postgres").check_reachable(f"{prefix}/postgres")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
        message = f"{name} server not reachable at {prefix}: {exc}"
        if in_ci():
            pytest.fail(f"{message} (CI=true: servers are required)", pytrace=False)
        pytest.skip(message)
    return prefix


class Server:
    """A test's handle on one backend: a unique base name, listing and raw SQL for checks."""

    def __init__(self, kind: str, tmp_path: Any) -> None:
        self.kind = kind
        self.name = f"dst_{uuid.uuid4().hex[:6]}"
        self.sqlite_dir = tmp_path / "db"
        if kind == "sqlite":
            self.sqlite_dir.mkdir(exist_ok=True)
            self.url = f"sqlite:///{self.sqlite_dir / self.name}.sqlite"
            self.backend: ServerBackend | None = None
        else:
            self.url = f"{require_server(kind)}/{self.name}"
            self.backend = backend_for(self.url, run_id="tests000")  # type: ignore[assignment]

    @property
    def is_server(self) -> bool:
        return self.backend is not None

    def databases(self) -> dict[str, Marker | None]:
        assert self.backend is not None
        with self.backend.admin() as conn:
            return {k: Marker.parse(v) for k, v in self.backend.databases(conn).items()}

    def create(self, name: str, marker: Marker | None) -> None:
        assert self.backend is not None
        with self.backend.admin() as conn:
            if self.kind == "postgresql":
                conn.execute(f'CREATE DATABASE "{name}"')
                if marker is not None:
                    self.backend._set_marker(conn, name, marker)
            else:
                with conn.cursor() as cursor:
                    cursor.execute(f"CREATE DATABASE `{name}`")
                if marker is not None:
                    self.backend._set_marker(conn, name, marker)

    def set_marker(self, name: str, marker: Marker) -> None:
        assert self.backend is not None
        with self.backend.admin() as conn:
            self.backend._set_marker(conn, name, marker)

    def drop(self, name: str) -> None:
        assert self.backend is not None
        with self.backend.admin() as conn:
            self.backend.drop_named(conn, name)

    def names(self) -> set[str]:
        """Every database on the server now (empty for SQLite)."""
        return set(self.databases()) if self.is_server else set()

    def left_behind(self, before: set[str]) -> list[str]:
        """Databases made since ``before`` that an inner run of this test left: its base name's
        family, and demoseed databases of runs no longer alive. Other helpers' and other live
        runs' databases on the shared server are not counted."""
        if self.backend is None:
            return []
        with self.backend.admin() as conn:
            found = self.backend.databases(conn)
            dead = {
                name
                for name, comment in found.items()
                if name not in before
                and (marker := Marker.parse(comment)) is not None
                and not self.backend._lease_alive(conn, marker.run)
            }
        return sorted(dead | {name for name in found if self.name in name and name not in before})

    @contextmanager
    def user_without_create(self, user: str) -> Iterator[str]:
        """A login that may not create databases, for the refusal tests: yields this server's URL
        for it, and drops the user afterwards."""
        assert self.backend is not None
        with self.backend.admin() as conn:
            if self.kind == "postgresql":
                conn.execute(f"CREATE ROLE {user} LOGIN NOCREATEDB")
            else:
                with conn.cursor() as cursor:
                    cursor.execute(f"CREATE USER '{user}'@'%'")
        try:
            yield self.url.replace("root@", f"{user}@")
        finally:
            with self.backend.admin() as conn:
                if self.kind == "postgresql":
                    conn.execute(f"DROP ROLE IF EXISTS {user}")
                else:
                    with conn.cursor() as cursor:
                        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")

    def ours(self) -> list[str]:
        """Databases this test made: its base name's family, and test-made leftovers."""
        return sorted(n for n in self.databases() if self.name in n)


def _server(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Server]:
    found = Server(request.param, tmp_path)
    yield found
    if found.is_server:
        for name in found.ours():
            found.drop(name)


#: Every selected backend, SQLite included.
server = pytest.fixture(params=selected_backends(), name="server")(_server)
#: Only the selected database servers: for behaviour SQLite files do not have (leases, roles).
db_server = pytest.fixture(params=selected_servers(), name="db_server")(_server)
#: MariaDB alone: for its own server settings (an sql_mode).
mariadb_server = pytest.fixture(
    params=[name for name in selected_servers() if name == "mariadb"], name="mariadb_server"
)(_server)


def drop_cache(server: Server, cache_dir: Any) -> None:
    """Drop the ``--demo-reuse`` snapshots kept on the server for ``cache_dir``."""
    if server.backend is None:
        return
    scope = backend_for(server.url, reuse=True).scope(cache_dir)  # type: ignore[attr-defined]
    for name in server.databases():
        if name.startswith(f"demoseed_s_{scope}_"):
            server.drop(name)


def run(pytester: pytest.Pytester, server: Server, *args: str) -> pytest.RunResult:
    """An inner pytest run against ``server``, in a subprocess (xdist workers are processes)."""
    return pytester.runpytest_subprocess("-p", "no:randomly", "--demo-db-url", server.url, *args)


def run_inprocess(pytester: pytest.Pytester, server: Server, *args: str) -> pytest.RunResult:
    """The same run in this process: a second faster where no xdist worker is needed."""
    return pytester.runpytest_inprocess("-p", "no:randomly", "--demo-db-url", server.url, *args)
