"""MariaDB (and MySQL) through PyMySQL: snapshots are databases, a clone copies them in the server.

MariaDB has no template databases. Measured (benchmarks/RESULTS.md): ``SHOW CREATE TABLE`` +
``INSERT ... SELECT`` per table, two tables at a time, copies 1M rows in a fraction of what a
rebuild costs, so workers clone. DDL commits implicitly here, so a build cannot be one
transaction: the snapshot database is created with a ``scratch`` marker and becomes a snapshot
only when its marker is rewritten after the build committed. Anything else is never trusted.
Database comments need MariaDB 10.5 or later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.storage.backends.server import Marker, ServerBackend, short_hash

__all__ = ["MySQLBackend"]

#: Tables copied at once during a clone (measured: 2 beats 1 and 3 on 2 cores).
CLONE_THREADS = int(os.environ.get("DEMOSEED_MYSQL_CLONE_THREADS", "2"))


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _auto_increments(conn: sa.Connection) -> dict[str, int]:
    """The next AUTO_INCREMENT value of each table of the connection's database."""
    rows = conn.exec_driver_sql(
        "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT IS NOT NULL"
    )
    return {str(name): int(value) for name, value in rows}


def _lock_name(kind: str, text: str) -> str:
    return f"demoseed_{kind}_{short_hash(text, size=16)}"


class MySQLBackend(ServerBackend):
    """MariaDB 10.5+ through PyMySQL."""

    dialect_name = "mysql"
    identity = "mysql"
    max_name = 64

    def __init__(self, run_id: str = "", *, reuse: bool = False, url: str = "") -> None:
        super().__init__(run_id, reuse=reuse, url=url)
        # An optional driver (pip extra): imported when a backend for it is made, not with the package.
        import pymysql  # type: ignore[import-untyped]

        self.driver_errors = (pymysql.Error,)

    def _maintenance_url(self, url: str) -> sa.URL:
        return make_url(url)._replace(database=None)

    def _connect_args(self) -> dict[str, Any]:
        return {"connect_timeout": 5}

    def _autocommit(self, conn: Any) -> None:
        conn.autocommit(True)

    @staticmethod
    def _run(conn: Any, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        with conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    # -- primitives ------------------------------------------------------------------------
    def databases(self, conn: Any) -> dict[str, str | None]:
        rows = self._run(conn, "SELECT SCHEMA_NAME, SCHEMA_COMMENT FROM information_schema.SCHEMATA")
        return {str(name): comment for name, comment in rows}

    def drop_named(self, conn: Any, name: str) -> None:
        self._run(conn, f"DROP DATABASE IF EXISTS {_q(name)}")

    def _set_marker(self, conn: Any, name: str, marker: Marker) -> None:
        self._run(conn, f"ALTER DATABASE {_q(name)} COMMENT = %s", (marker.text(),))

    def _create(self, conn: Any, name: str, marker: Marker) -> None:
        """Created with its marker in one statement: never seen unmarked."""
        self._run(conn, f"CREATE DATABASE {_q(name)} COMMENT = %s", (marker.text(),))

    def _hold_lease(self, conn: Any) -> None:
        self._run(conn, "SELECT GET_LOCK(%s, 0)", (_lock_name("run", self.run_id),))

    def _lease_alive(self, conn: Any, run: str) -> bool:
        rows = self._run(conn, "SELECT IS_USED_LOCK(%s)", (_lock_name("run", run),))
        return rows[0][0] is not None

    @contextmanager
    def _name_lock(self, conn: Any, name: str) -> Iterator[None]:
        lock = _lock_name("name", name)
        if not self._run(conn, "SELECT GET_LOCK(%s, 60)", (lock,))[0][0]:
            raise ScenarioError(f"timed out waiting to claim database {name!r}")
        try:
            yield
        finally:
            self._run(conn, "SELECT RELEASE_LOCK(%s)", (lock,))

    # -- Backend protocol ------------------------------------------------------------------
    def check_reachable(self, url: str) -> None:
        """Connect, then create and drop a probe database: privileges on MariaDB are too
        varied (global, per database pattern, per role) to read them reliably."""
        probe = f"demoseed_p_{self.run_id or 'check'}_{short_hash(str(os.getpid()), size=6)}"
        with self.admin(url) as conn:
            try:
                self._create(conn, probe, Marker.new("probe", self.run_id))
            except Exception as exc:
                if not self.is_driver_error(exc):
                    raise
                user = make_url(url).username or "(default user)"
                raise ScenarioError(
                    f"MariaDB user {user!r} may not create databases ({exc.args[-1]}); grant it "
                    "CREATE and DROP"
                ) from None
            self.drop_named(conn, probe)

    def scratch_url(self, key: str, snapshot_dir: Path) -> str:
        return self.url_for(self.snapshot_name(key, snapshot_dir))

    def create_database(self, url: str) -> None:
        name = self.name_of(url)
        with self.admin(url) as conn:
            self.drop_named(conn, name)
            self._create(conn, name, Marker.new("scratch", self.run_id))

    def publish(self, scratch_url: str, key: str, snapshot_dir: Path) -> None:
        """The build committed: rewriting the marker is the one step that makes it a snapshot."""
        with self.admin() as conn:
            marker = Marker.new("snapshot", self.run_id, key, persistent=self.reuse)
            self._set_marker(conn, self.name_of(scratch_url), marker)

    def clone(self, key: str, snapshot_dir: Path, target_url: str, fallback_url: str | None = None) -> str:
        snap = self.snapshot_name(key, snapshot_dir)
        with self.admin() as conn:
            target = self.name_of(target_url)
            fallback = self.name_of(fallback_url) if fallback_url else None
            with self._name_lock(conn, target):
                name = self._claim(conn, target, fallback)
                self._create(conn, name, Marker.new("worker", self.run_id, key))
            try:
                self._copy_tables(conn, snap, name)
            except BaseException:
                self.drop_named(conn, name)
                raise
        return self.url_for(name, target_url)

    # -- key counters ----------------------------------------------------------------------
    def read_counters(self, engine: sa.Engine) -> dict[str, Any]:
        """Each table's next AUTO_INCREMENT value: InnoDB does not roll it back."""
        with engine.connect() as conn:
            return _auto_increments(conn)

    def restore_counters(self, engine: sa.Engine, saved: Mapping[str, Any]) -> list[str]:
        """``ALTER TABLE ... AUTO_INCREMENT`` for the tables whose counter moved.

        ALTER TABLE commits implicitly and waits for every open transaction on the table, so
        this runs on a connection of its own, after the test's transaction was rolled back
        and its connection closed (or before it began). (Lowering the counter is allowed down
        to the table's max key + 1, which after the rollback is the clone's again.)
        """
        with engine.connect() as conn:
            now = _auto_increments(conn)
            conn.commit()
            moved = [name for name, value in saved.items() if now.get(name, value) != value]
            for name in moved:
                conn.exec_driver_sql(f"ALTER TABLE {_q(name)} AUTO_INCREMENT = {int(saved[name])}")
            conn.commit()
        return moved

    def _copy_tables(self, conn: Any, source: str, target: str) -> None:
        """Same DDL (foreign keys and AUTO_INCREMENT counters included), then the rows."""
        tables = self._run(
            conn,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY DATA_LENGTH DESC",
            (source,),
        )
        names = [str(row[0]) for row in tables]
        self._run(conn, f"USE {_q(target)}")
        self._run(conn, "SET SESSION foreign_key_checks = 0")
        for table in names:
            ddl = self._run(conn, f"SHOW CREATE TABLE {_q(source)}.{_q(table)}")[0][1]
            self._run(conn, ddl)
        self._run(conn, "SET SESSION foreign_key_checks = 1")

        def copy(table: str) -> None:
            with self.admin() as worker:
                self._run(worker, "SET SESSION foreign_key_checks = 0, unique_checks = 0")
                self._run(
                    worker, f"INSERT INTO {_q(target)}.{_q(table)} SELECT * FROM {_q(source)}.{_q(table)}"
                )

        with ThreadPoolExecutor(max(1, CLONE_THREADS)) as pool:
            list(pool.map(copy, names))
        self._copy_views_and_triggers(conn, source, target)

    def _copy_views_and_triggers(self, conn: Any, source: str, target: str) -> None:
        """Views and triggers (a migrated schema has them), after the rows, so no trigger fires
        on the copy. A view's text names its database: it is pointed at the clone; the definer
        is left out (the cloning user's)."""
        definer = re.compile(r"DEFINER=`[^`]*`@`[^`]*`\s*")
        views = [
            str(row[0])
            for row in self._run(
                conn, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s", (source,)
            )
        ]
        pending = {v: self._run(conn, f"SHOW CREATE VIEW {_q(source)}.{_q(v)}")[0][1] for v in views}
        while pending:  # a view on a view: create the ones whose sources exist, until none is left
            made = []
            for view, ddl in pending.items():
                try:
                    self._run(conn, definer.sub("", ddl).replace(f"{_q(source)}.", f"{_q(target)}."))
                    made.append(view)
                except Exception:  # noqa: BLE001 - its source view is not there yet
                    continue
            if not made:
                raise ScenarioError(f"cannot copy view(s) {', '.join(sorted(pending))} of {source}")
            for view in made:
                del pending[view]
        triggers = self._run(
            conn, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s", (source,)
        )
        for (trigger,) in triggers:
            ddl = self._run(conn, f"SHOW CREATE TRIGGER {_q(source)}.{_q(str(trigger))}")[0][2]
            self._run(conn, definer.sub("", ddl))
