"""The builder: runs a spec's phases in one transaction, writes their batches, fingerprints them.

It is the one way data is made: fixtures, snapshots, ``seed()`` and the ``demoseed`` command all
call :func:`build`. Any error, or a cancel from the progress callback, rolls the whole build back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.scenario.context import IdAllocator, PhaseContext
from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.generate.determinism import derive_seed, reseed_factory_boy, seeded_faker, seeded_random
from pytest_demoseed.build.fingerprint import Fingerprint
from pytest_demoseed.errors import BuildCancelled
from pytest_demoseed.build.progress import JobStatus, ProgressCallback
from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.storage.schema import check_schema
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.build.writers import writer_for

__all__ = ["build", "phase_seed", "move_sequences"]


def phase_seed(spec: ScenarioSpec, phase_name: str) -> int:
    """The seed of one phase's stream: root seed, phase name, and its settings lineage."""
    return derive_seed(spec.seed, "phase", phase_name, spec.phase_lineage(phase_name))


@contextmanager
def _build_pragmas(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, skip fsync while building (one transaction: it commits or rolls back whole)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA synchronous=FULL")


def move_sequences(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """Move PostgreSQL sequences past the keys the builder assigned, so test inserts get new ones.

    SQLite and MariaDB/MySQL (InnoDB) move their counters on explicit inserts by themselves.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        column = keys[0].name
        name = quote.format_table(table)
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"COALESCE((SELECT MAX({quote.quote(column)}) FROM {name}), 0) + 1, false)"
            ),
            {"table": name, "column": column},
        )


def build(
    engine: sa.Engine,
    spec: ScenarioSpec,
    *,
    on_progress: ProgressCallback | None = None,
    database_label: str = "",
    prepare: Callable[[sa.Connection], None] | None = None,
) -> Dataset:
    """Build ``spec`` into ``engine``'s database in one transaction and describe the result.

    Raises ScenarioError for a spec that cannot be built there (a table missing, a phase that
    needs rows there are none of), BuildCancelled when the callback asks to stop; in every
    failure the database is left as it was. ``prepare`` runs first inside the same transaction
    (``seed(create_schema=..., clear=...)`` uses it), so it is rolled back with the build.
    """
    scenario = spec.scenario
    status = JobStatus(tuple(p.name for p in scenario.phases), on_progress)
    started = time.perf_counter()
    phase_seconds: dict[str, float] = {}
    fingerprint = Fingerprint(scenario.metadata)
    shared: dict[str, Any] = {}
    fallbacks: list[str] = []
    current: str | None = None
    try:
        with engine.connect() as conn, _build_pragmas(conn), conn.begin():
            if prepare is not None:
                prepare(conn)
            check_schema(conn, scenario.metadata)
            status.start()
            ids = IdAllocator(conn, scenario.metadata)
            writer = writer_for(conn, scenario.metadata)
            for item in scenario.phases:
                current = item.name
                settings = spec.phase_settings(item.name)
                seed = phase_seed(spec, item.name)
                ctx = PhaseContext(
                    conn=conn,
                    phase=item.name,
                    settings=settings,
                    seed=seed,
                    rng=seeded_random(seed),
                    faker=seeded_faker(seed, locale=scenario.locale),
                    clock=scenario.clock,
                    metadata=scenario.metadata,
                    shared=shared,
                    ids=ids,
                    _progress=status.update,
                    fallbacks=fallbacks,
                )
                status.enter(item.name)
                phase_start = time.perf_counter()
                if not settings.get("enabled", True):
                    if item.load_existing is not None:
                        item.load_existing(ctx)
                    phase_seconds[item.name] = 0.0
                    continue
                reseed_factory_boy(seed)
                rows = 0
                for batch in item.generate(ctx):
                    writer.write(batch)
                    fingerprint.add_rows(batch.table, batch.columns, batch.rows)
                    rows += len(batch.rows)
                    status.update(item.name, {"rows": rows})
                phase_seconds[item.name] = round(time.perf_counter() - phase_start, 4)
            current = None
            move_sequences(conn, scenario.metadata)
    except BuildCancelled:
        status.cancel()
        raise
    except KeyboardInterrupt:
        status.cancel()
        raise
    except ScenarioError as exc:
        status.fail(current, str(exc))
        raise
    except sa.exc.SQLAlchemyError as exc:
        status.fail(current, str(exc).split("\n")[0], {"error": type(exc).__name__})
        raise
    status.finish()
    root_key = scenario.root_key
    return Dataset(
        scenario=scenario.name,
        seed=spec.seed,
        spec_key=spec.key,
        settings=spec.as_dict(),
        counts=fingerprint.counts(),
        fingerprint=fingerprint.hexdigest(),
        table_fingerprints=fingerprint.table_digests(),
        phase_seconds=phase_seconds,
        build_seconds=round(time.perf_counter() - started, 4),
        root_id=shared.get(root_key) if root_key else None,
        database=database_label,
        source="built",
        source_seconds=round(time.perf_counter() - started, 4),
        fallbacks=tuple(fallbacks),
    )
