"""What the PostgreSQL and MariaDB backends share: names, ownership markers, leases, clean-up.

Every database demoseed creates on a server carries a marker (PostgreSQL ``COMMENT ON DATABASE``,
MariaDB's database ``COMMENT``): ``demoseed {"role": ..., "run": ..., ...}``. The run that owns it
holds a *lease* on the server for as long as it lives (a PostgreSQL advisory lock, a MariaDB named
lock), which the server releases by itself when the process dies. So a database whose marker
names a run without a lease belongs to a crashed run and may be dropped; one whose run still
holds its lease is never touched. A database without a marker is never dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pytest_demoseed.errors import ScenarioError, ServerError
from pytest_demoseed.storage.engines import safe_url

__all__ = ["Marker", "ServerBackend", "ServerError", "short_hash"]

PREFIX = "demoseed_"
#: Roles a crashed run leaves behind that nobody else will use: dropped once the run is dead.
#: ``kept`` worker databases (``--demo-keep``) and ``--demo-reuse`` snapshots are left alone.
SWEPT_ROLES = frozenset({"scratch", "worker", "probe", "snapshot"})


def short_hash(*parts: str, size: int = 8) -> str:
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()[:size]


@dataclass(frozen=True)
class Marker:
    """Who made a database, why, and (for snapshots) what it holds."""

    role: str
    run: str
    key: str = ""
    persistent: bool = False
    host: str = ""
    pid: int = 0
    at: str = ""

    @classmethod
    def new(cls, role: str, run: str, key: str = "", persistent: bool = False) -> Marker:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        return cls(role, run, key, persistent, socket.gethostname(), os.getpid(), stamp)

    def text(self) -> str:
        return "demoseed " + json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, comment: str | None) -> Marker | None:
        if not comment or not comment.startswith("demoseed {"):
            return None
        try:
            return cls(**json.loads(comment[len("demoseed ") :]))
        except (ValueError, TypeError):
            return None


def driver_message(exc: BaseException) -> str:
    """The useful first line of a driver error, without SQLAlchemy's wrapping."""
    orig = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    pymysql_style = len(args) == 2 and isinstance(args[0], int)  # PyMySQL: (code, message)
    text = f"({args[0]}) {args[1]}" if pymysql_style else str(orig)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


class ServerBackend:
    """Naming, markers, leases and claims on a database server; subclasses speak the dialect."""

    dialect_name = ""
    identity = ""
    max_name = 63
    driver_errors: tuple[type[Exception], ...] = ()

    def __init__(self, run_id: str = "", *, reuse: bool = False, url: str = "") -> None:
        self.run_id = run_id
        self.reuse = reuse
        self.url = url
        self._lease: Any = None

    # -- names ---------------------------------------------------------------------------
    def sibling_url(self, base_url: str, suffix: list[str]) -> str:
        parsed = make_url(base_url)
        if not parsed.database:
            raise ScenarioError(f"{safe_url(base_url)} names no database: add /NAME to the URL")
        name = "_".join([parsed.database, *suffix])
        self._check_name(name)
        return parsed.set(database=name).render_as_string(hide_password=False)

    def _check_name(self, name: str) -> None:
        if len(name.encode()) > self.max_name:
            raise ScenarioError(
                f"database name {name!r} is longer than {self.max_name} bytes; use a shorter name "
                "in --demo-db-url"
            )

    def scope(self, snapshot_dir: Path) -> str:
        """Snapshots of one run (or, with ``--demo-reuse``, of one cache dir on one host)."""
        where = str(Path(snapshot_dir).resolve())
        if self.reuse:
            return short_hash(socket.gethostname(), where)
        return short_hash(self.run_id, where)

    def snapshot_name(self, key: str, snapshot_dir: Path) -> str:
        return f"{PREFIX}s_{self.scope(snapshot_dir)}_{short_hash(key, size=12)}"

    def scratch_name(self, key: str, snapshot_dir: Path) -> str:
        return f"{PREFIX}b_{self.run_id}_{short_hash(key, self.scope(snapshot_dir), size=12)}"

    def url_for(self, name: str, like: str | None = None) -> str:
        parsed = make_url(like or self.url)
        return parsed.set(database=name).render_as_string(hide_password=False)

    @staticmethod
    def name_of(url: str) -> str:
        return str(make_url(url).database)

    # -- connections ---------------------------------------------------------------------
    def _maintenance_url(self, url: str) -> sa.URL:
        raise NotImplementedError

    def _connect_args(self) -> dict[str, Any]:
        return {}

    def is_driver_error(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the database driver's (or SQLAlchemy's wrapping of one).

        Matched by class, and also by the name and package of its base classes: a driver
        imported twice in one process (pytest's in-process runs drop modules between runs, and
        psycopg's compiled core keeps raising the classes of its first import) raises errors
        that are not instances of the classes imported now.
        """
        if isinstance(exc, (sa.exc.DBAPIError, *self.driver_errors)):
            return True
        packages = {kind.__module__.split(".")[0] for kind in self.driver_errors}
        return any(
            kind.__name__ == "Error" and kind.__module__.split(".")[0] in packages
            for kind in type(exc).__mro__
        )

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Driver errors become one-line ServerErrors (no traceback under pytest)."""
        try:
            yield
        except Exception as exc:
            if not self.is_driver_error(exc):
                raise
            raise ServerError(f"{doing}: {driver_message(exc)}") from None

    def _autocommit(self, conn: Any) -> None:
        raise NotImplementedError

    def _open(self, url: str | None = None) -> Any:
        """A raw autocommit DB-API connection to the server's maintenance database.

        The driver is called directly (SQLAlchemy only translates the URL): admin statements
        such as CREATE DATABASE must run outside any transaction SQLAlchemy would open.
        """
        target = url or self.url
        maintenance = self._maintenance_url(target)
        dialect = sa.create_engine(maintenance, poolclass=sa.pool.NullPool).dialect
        cargs, cparams = dialect.create_connect_args(maintenance)
        cparams.update(self._connect_args())
        with self.errors(f"cannot connect to {safe_url(target)}"):
            conn = dialect.loaded_dbapi.connect(*cargs, **cparams)
        self._autocommit(conn)
        return conn

    @contextmanager
    def admin(self, url: str | None = None) -> Iterator[Any]:
        conn = self._open(url)
        try:
            with self.errors(self.dialect_name):
                yield conn
        finally:
            conn.close()

    # -- dialect primitives (subclasses) ----------------------------------------------------
    def databases(self, conn: Any) -> dict[str, str | None]:
        """Every database on the server, by name, with its comment (where this plugin keeps a
        database's marker); for the run's own bookkeeping and ``demoseed cache``."""
        raise NotImplementedError

    def drop_named(self, conn: Any, name: str) -> None:
        """Drop database ``name`` through the admin connection ``conn``, if it exists."""
        raise NotImplementedError

    def _set_marker(self, conn: Any, name: str, marker: Marker) -> None:
        raise NotImplementedError

    def _hold_lease(self, conn: Any) -> None:
        raise NotImplementedError

    def _lease_alive(self, conn: Any, run: str) -> bool:
        raise NotImplementedError

    @contextmanager
    def _name_lock(self, conn: Any, name: str) -> Iterator[None]:
        raise NotImplementedError
        yield

    # -- markers and ownership -----------------------------------------------------------------
    def marker_of(self, conn: Any, name: str) -> tuple[bool, Marker | None]:
        found = self.databases(conn)
        return name in found, Marker.parse(found.get(name))

    def _is_dead(self, conn: Any, run: str) -> bool:
        return run != self.run_id and not self._lease_alive(conn, run)

    def _claim(self, conn: Any, name: str, fallback: str | None) -> str:
        """``name`` made free for this run, or ``fallback`` when another live run holds it.

        Call under ``_name_lock(name)``. A database that demoseed did not make is never
        dropped: that is an error for the user to resolve.
        """
        exists, marker = self.marker_of(conn, name)
        if not exists:
            return name
        if marker is None:
            raise ScenarioError(
                f"database {name!r} exists and was not created by pytest-demoseed; drop it or "
                "choose another database name in --demo-db-url"
            )
        if marker.run == self.run_id or self._is_dead(conn, marker.run):
            self.drop_named(conn, name)
            return name
        if fallback is None:
            raise ScenarioError(
                f"database {name!r} is in use by another pytest run ({marker.host} pid {marker.pid})"
            )
        return self._claim(conn, fallback, None)

    # -- the run ---------------------------------------------------------------------------
    def start_run(self, snapshot_dir: Path) -> None:
        """Hold this run's lease, then drop what crashed runs left (their lease is gone)."""
        if self._lease is None:
            lease = self._open()
            with self.errors("cannot take the run's lease"):
                self._hold_lease(lease)
            self._lease = lease
        with self.admin() as conn:
            self.sweep(conn)

    def end_run(self) -> None:
        if self._lease is not None:
            with suppress(Exception):  # the server drops the lease with the connection anyway
                self._lease.close()
            self._lease = None

    def sweep(self, conn: Any) -> list[str]:
        """Drop demoseed databases of runs that are no longer alive; return their names."""
        dropped = []
        for name, comment in self.databases(conn).items():
            marker = Marker.parse(comment)
            if marker is None:
                run = _run_from_name(name)
                if run is None:
                    continue
            elif marker.role not in SWEPT_ROLES or (marker.role == "snapshot" and marker.persistent):
                continue
            else:
                run = marker.run
            if self._is_dead(conn, run):
                self.drop_named(conn, name)
                dropped.append(name)
        return dropped

    # -- Backend protocol: databases -------------------------------------------------------------
    def drop_database(self, url: str) -> None:
        with self.admin(url) as conn:
            self.drop_named(conn, self.name_of(url))

    def release_database(self, url: str, keep: bool) -> None:
        """At the end of the run: drop this run's database, or mark it kept (``--demo-keep``)."""
        name = self.name_of(url)
        with self.admin(url) as conn:
            exists, marker = self.marker_of(conn, name)
            if not exists or marker is None or marker.run != self.run_id:
                return
            if keep:
                self._set_marker(conn, name, Marker.new("kept", self.run_id))
            else:
                self.drop_named(conn, name)

    def _snapshot_marker(self, conn: Any, key: str, snapshot_dir: Path) -> Marker | None:
        exists, marker = self.marker_of(conn, self.snapshot_name(key, snapshot_dir))
        if not exists or marker is None or marker.role != "snapshot" or marker.key != key:
            return None
        return marker

    def snapshot_exists(self, key: str, snapshot_dir: Path) -> bool:
        """A complete snapshot of exactly ``key``: half-written or stale ones do not count."""
        with self.admin() as conn:
            return self._snapshot_marker(conn, key, snapshot_dir) is not None

    def drop_snapshot(self, key: str, snapshot_dir: Path) -> None:
        """Drop the snapshot of ``key`` (only if demoseed marked it as one)."""
        with self.admin() as conn:
            if self._snapshot_marker(conn, key, snapshot_dir) is not None:
                self.drop_named(conn, self.snapshot_name(key, snapshot_dir))

    def snapshot_files(self, key: str, snapshot_dir: Path) -> list[Path]:
        """None: the snapshot lives on the server (its portable files are the provider's)."""
        return []

    def drop_snapshots(self, snapshot_dir: Path) -> None:
        """Drop this run's snapshots and scratch databases, and their sidecars (never called
        with ``--demo-reuse``, whose snapshots are kept)."""
        with self.admin() as conn:
            for name, comment in self.databases(conn).items():
                marker = Marker.parse(comment)
                if (
                    marker is not None
                    and marker.run == self.run_id
                    and not marker.persistent
                    and (marker.role in ("snapshot", "scratch"))
                ):
                    self.drop_named(conn, name)
        for sidecar in Path(snapshot_dir).glob("*.json"):
            sidecar.unlink(missing_ok=True)


def _run_from_name(name: str) -> str | None:
    """``demoseed_b_<run>_...`` / ``demoseed_w_<run>_...``: unmarked leftovers name their run."""
    parts = name.split("_")
    if len(parts) >= 3 and parts[0] == "demoseed" and parts[1] in ("b", "w", "p"):
        return parts[2]
    return None
