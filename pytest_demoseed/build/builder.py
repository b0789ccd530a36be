"""The builder: runs a spec's phases in one transaction, writes their batches, fingerprints them.

It is the one way data is made: fixtures, snapshots, ``seed()`` and the ``demoseed`` command all
call :func:`build`. Any error, or a cancel from the progress callback, rolls the whole build back.
It names no dialect: what a backend needs around a build (SQLite's pragmas, PostgreSQL's
sequences) is its writer's (:mod:`pytest_demoseed.build.writers`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.build.fingerprint import Fingerprint
from pytest_demoseed.build.progress import JobStatus, ProgressCallback
from pytest_demoseed.build.schema_check import check_schema
from pytest_demoseed.build.writers import BatchWriter, writer_for
from pytest_demoseed.errors import BuildCancelled, ScenarioError
from pytest_demoseed.generate.determinism import derive_seed, reseed_factory_boy, seeded_faker, seeded_random
from pytest_demoseed.scenario.context import IdAllocator, PhaseContext
from pytest_demoseed.scenario.declare import Batch, Phase
from pytest_demoseed.scenario.spec import ScenarioSpec

__all__ = ["build", "phase_seed"]


def phase_seed(spec: ScenarioSpec, phase_name: str) -> int:
    """The seed of one phase's stream: root seed, phase name, and its settings lineage."""
    return derive_seed(spec.seed, "phase", phase_name, spec.phase_lineage(phase_name))


class _PacedGc:
    """The cyclic garbage collector while a build runs: automatic collection paused, the young
    generations collected every :attr:`EVERY` rows written; restored as it was afterwards.

    A build allocates millions of short-lived tuples and lists while keeping large ones alive
    (the elector roll, a batch's columns), and the automatic collections walk them again and
    again, yet a build makes almost no cyclic garbage (a few thousand objects for ``large``).
    Collecting the young generations now and then still frees the cycles a phase makes (a
    per-row factory fallback's objects) before they pile up. Measured on ``large`` (SQLite, in
    ``bench.py``'s process, whose heap holds SQLAlchemy, Faker and factory_boy as a test session's
    does): the automatic collector ran 4,400 young and 36 full collections, 2.1 s in all, for
    a 12.2 s build; paced, 9 collections, 0.04 s, and the build took 10.5 s.
    """

    EVERY = 100_000

    def __init__(self) -> None:
        self._since = 0
        self._was_enabled = False

    def __enter__(self) -> _PacedGc:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()

    def wrote(self, rows: int) -> None:
        self._since += rows
        if self._since >= self.EVERY:
            self._since = 0
            gc.collect(1)


@dataclass
class _Run:
    """One build's state while its phases run: what they share, their timings, the fingerprint."""

    spec: ScenarioSpec
    status: JobStatus
    fingerprint: Fingerprint
    shared: dict[str, Any] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    #: The phase running now, named in the job status when the build fails.
    current: str | None = None
    #: Called with every batch once written (``seed()`` records the keys it wrote).
    on_batch: Callable[[Batch], None] | None = None
    paced_gc: _PacedGc = field(default_factory=_PacedGc)

    def run_phases(self, conn: sa.Connection, writer: BatchWriter) -> IdAllocator:
        """Run every phase; the allocator says which keys the build handed out."""
        ids = IdAllocator(conn, self.spec.scenario.metadata)
        for item in self.spec.scenario.phases:
            self.current = item.name
            self.run_phase(item, self.context(conn, item, ids), writer)
        self.current = None
        return ids

    def context(self, conn: sa.Connection, item: Phase, ids: IdAllocator) -> PhaseContext:
        scenario = self.spec.scenario
        seed = phase_seed(self.spec, item.name)
        return PhaseContext(
            conn=conn,
            phase=item.name,
            settings=self.spec.phase_settings(item.name),
            seed=seed,
            rng=seeded_random(seed),
            faker=seeded_faker(seed, locale=scenario.locale),
            clock=scenario.clock,
            metadata=scenario.metadata,
            shared=self.shared,
            ids=ids,
            _progress=self.status.update,
            fallbacks=self.fallbacks,
            sequences=self.sequences,
        )

    def run_phase(self, item: Phase, ctx: PhaseContext, writer: BatchWriter) -> None:
        """Write the phase's batches; a phase that is off only reads the rows already there."""
        self.status.enter(item.name)
        phase_start = time.perf_counter()
        if not ctx.settings.get("enabled", True):
            if item.load_existing is not None:
                item.load_existing(ctx)
            self.phase_seconds[item.name] = 0.0
            return
        reseed_factory_boy(ctx.seed)
        rows = 0
        for batch in item.generate(ctx):
            written = writer.write(batch)
            if self.on_batch is not None:
                self.on_batch(batch)
            if written.server_filled:
                self.fingerprint.read_back_tables.add(batch.table)
            else:
                self.fingerprint.add_built_rows(
                    batch.table, written.columns, written.rows, writer.dialect, written.by_column
                )
            rows += len(batch.rows)
            self.paced_gc.wrote(len(batch.rows))
            self.status.update(item.name, {"rows": rows})
        self.phase_seconds[item.name] = round(time.perf_counter() - phase_start, 4)


def build(
    engine: sa.Engine,
    spec: ScenarioSpec,
    *,
    on_progress: ProgressCallback | None = None,
    database_label: str = "",
    prepare: Callable[[sa.Connection], None] | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    before_commit: Callable[[sa.Connection], None] | None = None,
) -> Dataset:
    """Build ``spec`` into ``engine``'s database in one transaction and describe the result.

    Raises ScenarioError for a spec that cannot be built there (a table missing, a phase that
    needs rows there are none of), BuildCancelled when the callback asks to stop; in every
    failure the database is left as it was. ``prepare`` runs first inside the same transaction
    (``seed(create_schema=..., clear=...)`` uses it), so it is rolled back with the build.
    ``on_batch`` sees every batch written and ``before_commit`` runs after the last phase, both
    inside the transaction: ``seed()`` records what it wrote, with the rows or not at all.
    """
    scenario = spec.scenario
    status = JobStatus(tuple(p.name for p in scenario.phases), on_progress)
    started = time.perf_counter()
    run = _Run(spec, status, Fingerprint(scenario.metadata), on_batch=on_batch)
    try:
        with run.paced_gc, engine.connect() as conn:
            writer = writer_for(conn, scenario.metadata)
            with writer.around_transaction(), conn.begin():
                if prepare is not None:
                    prepare(conn)
                check_schema(conn, scenario.metadata)
                writer.start()
                status.start()
                ids = run.run_phases(conn, writer)
                if before_commit is not None:
                    before_commit(conn)
                writer.finish()
                run.fingerprint.read_back(conn, since=ids.first)  # the build's rows, not older ones
    except (BuildCancelled, KeyboardInterrupt):
        status.cancel()
        raise
    except ScenarioError as exc:
        status.fail(run.current, str(exc))
        raise
    except sa.exc.SQLAlchemyError as exc:
        status.fail(run.current, str(exc).split("\n")[0], {"error": type(exc).__name__})
        raise
    status.finish()
    root_key = scenario.root_key
    fingerprint = run.fingerprint
    return Dataset(
        scenario=scenario.name,
        seed=spec.seed,
        spec_key=spec.key,
        settings=spec.as_dict(),
        counts=fingerprint.counts(),
        fingerprint=fingerprint.hexdigest(),
        table_fingerprints=fingerprint.table_digests(),
        phase_seconds=run.phase_seconds,
        build_seconds=round(time.perf_counter() - started, 4),
        root_id=run.shared.get(root_key) if root_key else None,
        database=database_label,
        source="built",
        source_seconds=round(time.perf_counter() - started, 4),
        fallbacks=tuple(run.fallbacks),
        sequences=dict(sorted(run.sequences.items())),
    )
