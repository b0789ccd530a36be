"""PostgreSQL: snapshots are template databases, a clone is ``CREATE DATABASE ... TEMPLATE``.

A template cannot be copied while anyone is connected to it, so a published snapshot is marked
``ALLOW_CONNECTIONS false`` (nobody can connect, not even by mistake); builds dispose their
engine first, and a clone that still finds the template busy terminates the stray sessions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.storage.backends.server import PREFIX, Marker, ServerBackend, short_hash

__all__ = ["PostgresBackend"]

#: Advisory lock classes: one for run leases, one for claiming a database name.
LEASE_CLASS = 0x0DE5EED
NAME_CLASS = 0x0DE5EEE
#: SQLSTATE of "source database is being accessed by other users" (matched by code, not class:
#: see ``ServerBackend.is_driver_error``).
OBJECT_IN_USE = "55006"
#: Measured in benchmarks/bench_clone.py (RESULTS.md): WAL_LOG is faster here for small and
#: 1M-row templates alike, and does not force the two checkpoints FILE_COPY needs.
CLONE_STRATEGY = os.environ.get("DEMOSEED_PG_CLONE_STRATEGY", "WAL_LOG").upper()


#: Every sequence of the database's own schemas, as a name ``setval`` and ``FROM`` accept.
_SEQUENCES = sa.text(
    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences "
    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
)


def _int_key(text: str) -> int:
    return int(short_hash(text, size=7), 16)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresBackend(ServerBackend):
    """PostgreSQL through psycopg 3."""

    dialect_name = "postgresql"
    identity = "postgresql"
    max_name = 63

    def __init__(self, run_id: str = "", *, reuse: bool = False, url: str = "") -> None:
        super().__init__(run_id, reuse=reuse, url=url)
        # An optional driver (pip extra): imported when a backend for it is made, not with the package.
        import psycopg

        self.driver_errors = (psycopg.Error,)

    def _maintenance_url(self, url: str) -> sa.URL:
        return make_url(url).set(database=os.environ.get("DEMOSEED_PG_MAINTENANCE_DB", "postgres"))

    def _connect_args(self) -> dict[str, Any]:
        return {"connect_timeout": 5}

    def _autocommit(self, conn: Any) -> None:
        conn.autocommit = True

    # -- primitives ------------------------------------------------------------------------
    def databases(self, conn: Any) -> dict[str, str | None]:
        rows = conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
        ).fetchall()
        return {name: comment for name, comment in rows}

    def drop_named(self, conn: Any, name: str) -> None:
        row = conn.execute("SELECT datistemplate FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if row is None:
            return
        if row[0]:
            conn.execute(f"ALTER DATABASE {_q(name)} IS_TEMPLATE false")
        conn.execute(f"DROP DATABASE IF EXISTS {_q(name)} WITH (FORCE)")

    def _set_marker(self, conn: Any, name: str, marker: Marker) -> None:
        conn.execute(f"COMMENT ON DATABASE {_q(name)} IS {_literal(marker.text())}")

    def _hold_lease(self, conn: Any) -> None:
        conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LEASE_CLASS, _int_key(self.run_id)))

    def _lease_alive(self, conn: Any, run: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::int8::oid "
            "AND objid = %s::int8::oid AND objsubid = 2 AND granted LIMIT 1",
            (LEASE_CLASS, _int_key(run)),
        ).fetchone()
        return row is not None

    @contextmanager
    def _name_lock(self, conn: Any, name: str) -> Iterator[None]:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (NAME_CLASS, _int_key(name)))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NAME_CLASS, _int_key(name)))

    def _terminate(self, conn: Any, name: str) -> None:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )

    # -- Backend protocol ------------------------------------------------------------------
    def check_reachable(self, url: str) -> None:
        """Connect, and make sure the user may create databases: one line if not."""
        with self.admin(url) as conn:
            row = conn.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        if not row or not row[0]:
            user = make_url(url).username or "(default user)"
            raise ScenarioError(
                f"PostgreSQL user {user!r} may not create databases (needs CREATEDB: "
                f"ALTER ROLE {user} CREATEDB)"
            )

    def scratch_url(self, key: str, snapshot_dir: Path) -> str:
        return self.url_for(self.scratch_name(key, snapshot_dir))

    def create_database(self, url: str) -> None:
        name = self.name_of(url)
        with self.admin(url) as conn:
            self.drop_named(conn, name)
            conn.execute(f"CREATE DATABASE {_q(name)}")
            self._set_marker(conn, name, Marker.new("scratch", self.run_id))

    def publish(self, scratch_url: str, key: str, snapshot_dir: Path) -> None:
        """Rename the finished scratch database to the snapshot's name, marked, in one transaction."""
        scratch, snap = self.name_of(scratch_url), self.snapshot_name(key, snapshot_dir)
        marker = Marker.new("snapshot", self.run_id, key, persistent=self.reuse)
        with self.admin() as conn:
            self._terminate(conn, scratch)
            self.drop_named(conn, snap)
            with conn.transaction():
                conn.execute(f"ALTER DATABASE {_q(scratch)} RENAME TO {_q(snap)}")
                self._set_marker(conn, snap, marker)
                conn.execute(f"ALTER DATABASE {_q(snap)} IS_TEMPLATE true ALLOW_CONNECTIONS false")

    def clone(self, key: str, snapshot_dir: Path, target_url: str, fallback_url: str | None = None) -> str:
        """Copy the template into a temporary name, then rename it to the claimed target.

        The target never exists without its marker, so a crash cannot leave a database that
        looks like the user's own.
        """
        snap = self.snapshot_name(key, snapshot_dir)
        temp = f"{PREFIX}w_{self.run_id}_{short_hash(target_url, str(os.getpid()), size=10)}"
        with self.admin() as conn:
            self.drop_named(conn, temp)
            create = f"CREATE DATABASE {_q(temp)} TEMPLATE {_q(snap)} STRATEGY {CLONE_STRATEGY}"
            try:
                conn.execute(create)
            except Exception as exc:
                if getattr(exc, "sqlstate", None) != OBJECT_IN_USE:
                    raise
                self._terminate(conn, snap)
                conn.execute(create)
            self._set_marker(conn, temp, Marker.new("worker", self.run_id, key))
            target = self.name_of(target_url)
            fallback = self.name_of(fallback_url) if fallback_url else None
            with self._name_lock(conn, target):
                name = self._claim(conn, target, fallback)
                conn.execute(f"ALTER DATABASE {_q(temp)} RENAME TO {_q(name)}")
        return self.url_for(name, target_url)

    # -- key counters ----------------------------------------------------------------------
    def read_counters(self, engine: sa.Engine) -> dict[str, Any]:
        """Each sequence's ``(last_value, is_called)``: sequences are not transactional, a
        rolled-back insert still moved them. (Read from the sequences themselves: the
        ``pg_sequences`` view shows no value for one that is not "called", as a sequence the
        builder moved past its keys is.)"""
        with engine.connect() as conn:
            names = [str(name) for (name,) in conn.execute(_SEQUENCES)]
            return _states(conn, names)

    def restore_counters(self, engine: sa.Engine, saved: Mapping[str, Any]) -> list[str]:
        """``setval`` the sequences whose state is not ``saved``'s: one statement, one round
        trip, in autocommit (a rollback would not undo ``setval`` anyway).

        A sequence has moved when ``pg_sequence_last_value`` (its last value if called, else
        null) differs from the saved state; ``nextval``, the way a test moves one, always
        leaves it called. A test database's counters need not wait for the disk:
        ``synchronous_commit`` is off for that statement.
        """
        if not saved:
            return []
        rows, params = [], {}
        for i, (name, (value, called)) in enumerate(saved.items()):
            rows.append(f"(CAST(:n{i} AS text), CAST(:v{i} AS bigint), CAST(:c{i} AS boolean))")
            params.update({f"n{i}": name, f"v{i}": value, f"c{i}": called})
        statement = sa.text(
            "SELECT t.name, set_config('synchronous_commit', 'off', true), "
            "setval(CAST(t.name AS regclass), t.last, t.called) "
            f"FROM (VALUES {', '.join(rows)}) AS t(name, last, called) "
            "WHERE pg_sequence_last_value(CAST(t.name AS regclass)) "
            "IS DISTINCT FROM CASE WHEN t.called THEN t.last END"
        )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return [str(name) for name, _, _ in conn.execute(statement, params)]


def _states(conn: sa.Connection, names: list[str]) -> dict[str, tuple[int, bool]]:
    """``(last_value, is_called)`` of each sequence (quoted names from ``_SEQUENCES``), in one
    query. (The test's own DDL is rolled back, so the clone's sequences are all still there.)"""
    if not names:
        return {}
    union = " UNION ALL ".join(
        f"SELECT {i}, last_value, is_called FROM {name}" for i, name in enumerate(names)
    )
    return {names[i]: (int(value), bool(called)) for i, value, called in conn.execute(sa.text(union))}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
