"""Where each spec's data lives: per-worker databases, snapshots built once, clones per worker.

A run builds each spec once, into a snapshot, under a file lock in a directory the xdist workers
share; every worker then clones the snapshot into its own database. With ``--demo-reuse`` the
snapshots live in a cache directory and are reused by later runs while their key matches.

Backends (``backends/``) know how to name, create, drop, snapshot and clone databases; this
module holds the flow that is the same for all of them. The sidecar ``<key>.json`` (the Dataset
and the run that built it) is written last: a snapshot without one is never trusted, and with
``--demo-rebuild`` only a snapshot this very run built counts, so each spec is rebuilt once per
run, not once per worker.

Names on a server (``--demo-db-url .../app``):

- ``app`` (no xdist) / ``app_gw0`` (xdist worker) / ``app_<shortkey>[_gw0]`` (a marker's other
  spec): the test databases, created when first needed, dropped at the end (``--demo-keep``
  marks them ``kept``; the next run that needs the name replaces them).
- If another pytest run that is still alive holds ``app_gw0`` (two runs sharing a base name),
  this run uses ``app_<run id>_gw0`` instead, and the summary shows it: runs never touch each
  other's databases, and a lone run keeps the predictable name.
- ``demoseed_s_<scope>_<key hash>``: a snapshot (a PostgreSQL template / a MariaDB database);
  scope is the run (dropped at the end) or, with ``--demo-reuse``, the cache dir on this host.
- ``demoseed_b_<run id>_<hash>`` (PostgreSQL scratch build), ``demoseed_w_<run id>_<hash>``
  (a clone before its rename), ``demoseed_p_...`` (MariaDB privilege probe).

Each carries a marker comment with its role, run id, host, pid and time (``backends/server.py``);
the run holds a lease lock on the server while it lives. At session start the controller drops
every marked database of a run whose lease is gone: nothing of a live run, nothing unmarked.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from filelock import FileLock, Timeout

from pytest_demoseed.build.builder import build
from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.storage.backends import Backend, backend_for
from pytest_demoseed.storage.engines import make_engine, safe_url
from pytest_demoseed.storage.integrity import FileRecord, describe_file
from pytest_demoseed.storage.kept import (
    Sidecar,
    portable_dir,
    read_sidecar,
    sidecar_path,
    touch,
    write_sidecar,
)
from pytest_demoseed.storage.migrations import (
    NON_TRANSACTIONAL_DDL,
    MigratedRows,
    Migrations,
    combined_fingerprint,
    migration_prepare,
    run_migrations,
)
from pytest_demoseed.storage.portable import dump_tables, load_tables, portable_format
from pytest_demoseed.storage.snapshot_key import schema_source, snapshot_key

__all__ = ["DatabaseProvider", "Provided"]


@dataclass(frozen=True)
class Provided:
    """A spec's data in this worker's database: its engine, the dataset description, the
    spec it was made from (so fixtures reach the scenario object, not a name to look up), and
    its key counters as cloned (sequences / AUTO_INCREMENT: empty on SQLite)."""

    engine: sa.Engine
    dataset: Dataset
    url: str
    spec: ScenarioSpec
    counters: Mapping[str, Any] = field(default_factory=dict)


class DatabaseProvider:
    """Gives each distinct spec its own database in this worker, built once per run.

    ``base_url`` names the default spec's database; other specs get siblings named with the
    spec's short key, and xdist workers add their id: ``<name>_<key>_<worker>``.
    """

    def __init__(
        self,
        base_url: str,
        default_spec: ScenarioSpec,
        *,
        worker: str | None,
        snapshot_dir: Path,
        run_id: str,
        reuse: bool = False,
        rebuild: bool = False,
        keep: bool = False,
        metadata_for: Callable[[ScenarioSpec], sa.MetaData] | None = None,
        on_progress: Callable[[dict[str, Any]], Any] | None = None,
        backend: Backend | None = None,
        schema: str = "create_all",  # or "alembic" (run ``migrations``), "none" (only checked)
        migrations: Migrations | None = None,
        prebuilt: Mapping[str, float] | None = None,
        portable: bool = False,
    ) -> None:
        # The plugin passes the run's one Backend; a provider made on its own makes its own.
        self.backend: Backend = backend or backend_for(base_url, run_id=run_id, reuse=reuse)
        self.run_id = run_id
        self.rebuild = rebuild
        self.base_url = base_url
        self.default_spec = default_spec
        self.worker = worker
        self.snapshot_dir = snapshot_dir
        self.reuse = reuse
        self.keep = keep
        self.metadata_for = metadata_for or (lambda spec: spec.scenario.metadata)
        self.on_progress = on_progress
        if schema == "alembic" and migrations is None:
            raise ScenarioError("schema 'alembic' needs the migrations to run")
        self.schema = schema
        self.migrations = migrations
        #: snapshot key -> seconds, for the snapshots this process built before any test asked
        #: (:meth:`prepare`): the summary says "built" for them, not "cloned"
        self.prebuilt: dict[str, float] = dict(prebuilt or {})
        #: also keep a server snapshot as portable files in ``snapshot_dir`` (``--demo-cache-dir``),
        #: so a run on another machine, whose server has no snapshot, loads them instead of building
        self.portable = portable and portable_format(self.backend.dialect_name) is not None
        #: snapshot key -> why its kept snapshot was not used and it was built again
        self._rebuilt_because: dict[str, str] = {}
        #: snapshot key -> seconds it took to load its portable files (this process restored it)
        self._restored: dict[str, float] = {}
        self._provided: dict[str, Provided] = {}
        #: snapshot key -> the rows its migrations left (``MigratedRows.as_dict()``)
        self._migrated: dict[str, dict[str, Any]] = {}
        #: spec keys whose counters a test without the reset may have moved since the last reset
        self._touched: set[str] = set()

    def _suffix(self, spec: ScenarioSpec) -> list[str]:
        suffix = [] if spec.key == self.default_spec.key else [spec.short_key]
        if self.worker:
            suffix.append(self.worker)
        return suffix

    def database_url(self, spec: ScenarioSpec) -> str:
        """``<name>[_<shortkey>][_<worker>]``: what this worker's database is called."""
        return self.backend.sibling_url(self.base_url, self._suffix(spec))

    def fallback_url(self, spec: ScenarioSpec) -> str | None:
        """``<name>_<run id>[...]``: used when another live run holds ``database_url``."""
        try:
            return self.backend.sibling_url(self.base_url, [self.run_id, *self._suffix(spec)])
        except ScenarioError:
            return None

    def provided(self) -> list[Provided]:
        return list(self._provided.values())

    def get(self, spec: ScenarioSpec) -> Provided:
        found = self._provided.get(spec.key)
        if found is None:
            found = self._provide(spec)
            self._provided[spec.key] = found
        return found

    def key_for(self, spec: ScenarioSpec) -> str:
        """The snapshot key of ``spec`` with this provider's schema (and migrations)."""
        schema = schema_source(self.schema, self.migrations.key if self.migrations is not None else "")
        metadata = self.metadata_for(spec)
        return snapshot_key(spec, metadata, self.backend.dialect_name, self.backend.identity, schema)

    def migrated_for(self, key: str) -> dict[str, Any] | None:
        """The rows the migrations left in snapshot ``key`` (``MigratedRows.as_dict()``), if known."""
        return self._migrated.get(key)

    def prepare(self, spec: ScenarioSpec) -> tuple[Dataset, float] | None:
        """Make sure ``spec``'s snapshot exists, building it if needed, without cloning it.

        The plugin calls this once at session start when the schema is migrated, so a bad
        migration ends the run before any test. Returns the
        dataset and build seconds when this call built it, None when a kept one was valid.
        """
        key = self.key_for(spec)
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.snapshot_dir / f"{key}.lock")):
            if self._valid_snapshot(key, spec) is not None:
                return None
            started = time.perf_counter()
            dataset = self._build_snapshot(spec, key, self.metadata_for(spec))
            seconds = round(time.perf_counter() - started, 4)
        self.prebuilt[key] = seconds
        return dataset, seconds

    def _provide(self, spec: ScenarioSpec) -> Provided:
        metadata = self.metadata_for(spec)
        key = self.key_for(spec)
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        target, fallback = self.database_url(spec), self.fallback_url(spec)
        waited = time.perf_counter()
        with FileLock(str(self.snapshot_dir / f"{key}.lock")):
            wait_seconds = time.perf_counter() - waited
            dataset = self._valid_snapshot(key, spec)
            built = dataset is None
            build_seconds = 0.0
            if dataset is None:
                build_started = time.perf_counter()
                dataset = self._build_snapshot(spec, key, metadata)
                build_seconds = round(time.perf_counter() - build_started, 4)
            clone_started = time.perf_counter()
            target = self.backend.clone(key, self.snapshot_dir, target, fallback)
            clone_seconds = round(time.perf_counter() - clone_started, 4)
        if not built and key in self.prebuilt:  # this process built it, at session start
            built, build_seconds = True, self.prebuilt.pop(key)
        restored = self._restored.pop(key, None)
        source = "built" if built else "restored" if restored is not None else "cloned"
        dataset = dataset.replace(
            database=safe_url(target),
            source=source,
            source_seconds={"built": build_seconds, "restored": restored}.get(source) or clone_seconds,
            extra={
                "snapshot_build_seconds": build_seconds,
                "clone_seconds": clone_seconds,
                "wait_seconds": round(wait_seconds, 4),
                "key": key,
                **({"restore_seconds": restored} if restored is not None else {}),
                **({"rebuilt_because": self._rebuilt_because[key]} if key in self._rebuilt_because else {}),
                **({"migrated": self._migrated.get(key)} if key in self._migrated else {}),
            },
        )
        # Pooled, also on SQLite: each test's connect + PRAGMA would otherwise cost ~0.25 ms.
        # The file is this worker's alone, and close() disposes the pool before it is dropped.
        engine = make_engine(target, poolclass=sa.pool.QueuePool)
        # read now, before any test ran: what ``reset_counters`` puts back
        return Provided(engine, dataset, target, spec, self.backend.read_counters(engine))

    def reset_counters(self, provided: Provided, *, if_touched: bool = False) -> list[str]:
        """Put ``provided``'s key counters back where the clone had them (those that moved).

        ``if_touched``: only if a test without the reset used the database since the last one
        (see :meth:`touched`), so a run of reset tests checks once per test, not twice. Call
        with no transaction open on its tables: on MariaDB this is ALTER TABLE.
        """
        if if_touched and provided.dataset.spec_key not in self._touched:
            return []
        self._touched.discard(provided.dataset.spec_key)
        return self.backend.restore_counters(provided.engine, provided.counters)

    def touched(self, provided: Provided) -> None:
        """A test that does not reset the counters used ``provided``'s database: it may have
        moved them."""
        self._touched.add(provided.dataset.spec_key)

    def _valid_snapshot(self, key: str, spec: ScenarioSpec | None = None) -> Dataset | None:
        """The snapshot's dataset if it is complete, intact and still there, else None (build).

        A kept snapshot whose files fail their size or digest check (a truncated, corrupted or
        half-restored cache) is dropped, never served, and the reason is kept for the summary.
        A server snapshot that is gone (another machine, a new server) is loaded from its
        portable files when the cache directory has them, intact.
        """
        path = sidecar_path(self.snapshot_dir, key)
        sidecar = read_sidecar(path)
        if sidecar is None or sidecar.key != key:
            path.unlink(missing_ok=True)
            return None
        if sidecar.migrated is not None:
            self._migrated[key] = MigratedRows.from_dict(sidecar.migrated).as_dict()
        if self.rebuild and sidecar.run != self.run_id:
            return None
        exists = self.backend.snapshot_exists(key, self.snapshot_dir)
        problem = sidecar.files_problem(self.snapshot_dir)  # none kept on a server: None
        if problem is not None:
            self._forget(key, problem)
            return None
        if exists:
            touch(path)
            return sidecar.dataset
        if sidecar.portable and spec is not None:
            problem = sidecar.portable_problem(self.snapshot_dir)
            if problem is not None:
                self._forget(key, problem)
                return None
            started = time.perf_counter()
            self._restore_snapshot(spec, key, sidecar)
            self._restored[key] = round(time.perf_counter() - started, 4)
            touch(path)
            return sidecar.dataset
        path.unlink(missing_ok=True)
        return None

    def _forget(self, key: str, problem: str) -> None:
        """Drop a kept snapshot that cannot be used, whole, and say why it is built again."""
        self._rebuilt_because[key] = problem
        sidecar_path(self.snapshot_dir, key).unlink(missing_ok=True)
        self.backend.drop_snapshot(key, self.snapshot_dir)
        shutil.rmtree(portable_dir(self.snapshot_dir, key), ignore_errors=True)

    def _tables(self, spec: ScenarioSpec, metadata: sa.MetaData) -> list[sa.Table]:
        """The tables a snapshot's rows live in: the schema's and the scenario's, by dependency."""
        tables = {
            table.key: table for table in (*metadata.sorted_tables, *spec.scenario.metadata.sorted_tables)
        }
        return sa.sql.util.sort_tables(tables.values())

    def _make_schema(self, engine: sa.Engine, spec: ScenarioSpec, metadata: sa.MetaData) -> None:
        """The schema for a snapshot that is loaded, not built: as a build makes it (migrations
        committed, as on MariaDB; their rows are replaced by the loaded ones)."""
        if self.schema == "alembic":
            self._migrate_committed(engine)
        elif self.schema == "create_all":
            metadata.create_all(engine)
            spec.scenario.metadata.create_all(engine)

    def _migrate_committed(self, engine: sa.Engine) -> None:
        """Run the migrations and commit them (MariaDB's builds; every load of portable files)."""
        assert self.migrations is not None
        with engine.connect() as conn:
            run_migrations(conn, self.migrations)
            conn.commit()

    @contextmanager
    def _published(self, key: str) -> Iterator[sa.Engine]:
        """A scratch database for ``key``'s snapshot, through an engine disposed after the block:
        published under ``key`` when the block ends, dropped if it raises (or is interrupted)."""
        scratch = self.backend.scratch_url(key, self.snapshot_dir)
        self.backend.create_database(scratch)
        try:
            engine = make_engine(scratch)
            try:
                yield engine
            finally:
                engine.dispose()
            self.backend.publish(scratch, key, self.snapshot_dir)
        except BaseException:
            self.backend.drop_database(scratch)
            raise

    def _restore_snapshot(self, spec: ScenarioSpec, key: str, sidecar: Sidecar) -> None:
        """Load the portable files into a scratch database and publish it as the snapshot."""
        with self._published(key) as engine:
            metadata = self.metadata_for(spec)
            self._make_schema(engine, spec, metadata)
            directory = portable_dir(self.snapshot_dir, key)
            load_tables(engine, self._tables(spec, metadata), directory, sidecar.portable)

    def _build_snapshot(self, spec: ScenarioSpec, key: str, metadata: sa.MetaData) -> Dataset:
        """Build into a scratch database, then publish it under ``key`` in one atomic step.

        The sidecar (the dataset description) is written last: a snapshot without one was
        interrupted and is never used.
        """
        sidecar_path(self.snapshot_dir, key).unlink(missing_ok=True)
        migrated: MigratedRows | None = None
        portable: tuple[FileRecord, ...] = ()
        with self._published(key) as engine:
            if self.schema == "alembic":
                dataset, migrated = self._build_migrated(engine, spec, metadata)
            else:
                self._make_schema(engine, spec, metadata)
                dataset = build(engine, spec, on_progress=self.on_progress)
            if self.portable:  # from the scratch database: a published template takes no connections
                directory = portable_dir(self.snapshot_dir, key)
                shutil.rmtree(directory, ignore_errors=True)
                portable = tuple(dump_tables(engine, self._tables(spec, metadata), directory))
        if migrated is not None:
            self._migrated[key] = migrated.as_dict()
        files = self.backend.snapshot_files(key, self.snapshot_dir) if self.reuse else ()
        sidecar = Sidecar(
            key=key,
            dataset=dataset,
            run=self.run_id,
            backend=self.backend.identity,
            files=tuple(describe_file(path) for path in files),
            portable_format=(portable_format(self.backend.dialect_name) or "") if portable else "",
            portable=portable,
            migrated=migrated.as_dict() if migrated is not None else None,
        )
        write_sidecar(sidecar_path(self.snapshot_dir, key), sidecar)
        if self.reuse:
            self._drop_stale(spec.key, key)
        return dataset

    def _build_migrated(
        self, engine: sa.Engine, spec: ScenarioSpec, metadata: sa.MetaData
    ) -> tuple[Dataset, MigratedRows]:
        """Migrations, then the scenario: in the build's one transaction where DDL is
        transactional (PostgreSQL, SQLite), committed before it on MariaDB. The migrations' rows
        are counted apart and folded into the dataset's fingerprint."""
        migrations = self.migrations
        assert migrations is not None
        writers = [(f"scenario {spec.scenario_name!r}", spec.scenario.metadata)]
        if metadata is not spec.scenario.metadata:
            writers.append(("demo_metadata", metadata))
        apart = engine.dialect.name in NON_TRANSACTIONAL_DDL
        if apart:
            self._migrate_committed(engine)
        found: list[MigratedRows] = []
        prepare = migration_prepare(migrations, writers, run=not apart, found=found)
        dataset = build(engine, spec, on_progress=self.on_progress, prepare=prepare)
        (migrated,) = found
        return dataset.replace(fingerprint=combined_fingerprint(dataset.fingerprint, migrated)), migrated

    def _drop_stale(self, spec_key: str, key: str) -> None:
        """Kept snapshots of the same spec under an older key (its schema, a phase's source or
        a version changed since) can never match again: drop them and their sidecars.

        A snapshot another process is using (its lock is held) is left for a later run.
        """
        for path in self.snapshot_dir.glob("*.json"):
            other = path.stem
            found = read_sidecar(path)
            if other == key or found is None or found.dataset.spec_key != spec_key:
                continue
            if found.backend != self.backend.identity:  # another backend's (SQLite beside a server)
                continue
            lock = FileLock(str(self.snapshot_dir / f"{other}.lock"), timeout=0)
            try:
                with lock:
                    path.unlink(missing_ok=True)
                    self.backend.drop_snapshot(other, self.snapshot_dir)
                    shutil.rmtree(portable_dir(self.snapshot_dir, other), ignore_errors=True)
            except Timeout:
                continue

    def close(self) -> list[str]:
        """Dispose engines and drop this worker's databases unless they are to be kept.

        Snapshots are not this worker's to drop: other workers may still clone them. The
        process that ran the session (controller, or the only one) drops them at the end.
        Returns one line per database that could not be dropped (reported, not raised).
        """
        problems = []
        for provided in self._provided.values():
            provided.engine.dispose()
            try:
                self.backend.release_database(provided.url, self.keep)
            except ScenarioError as exc:
                problems.append(f"demoseed: could not drop {safe_url(provided.url)}: {exc}")
        for problem in problems:
            warnings.warn(problem, RuntimeWarning, stacklevel=2)
        return problems
