"""The library API: seed, clear and fingerprint a database outside tests, with the fixtures' builder.

``seed()`` is what a developer's script, a staging deploy step, a web job or the ``demoseed``
command calls. It validates everything before it touches the database, then builds in one
transaction (clearing and creating tables inside that same transaction when asked), so any
error, a progress callback returning ``STOP`` or a KeyboardInterrupt leaves the database as it was.
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from pytest_demoseed.build.builder import build
from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.build.fingerprint import fingerprint_database
from pytest_demoseed.build.progress import FINAL_STATUSES, ProgressCallback
from pytest_demoseed.build.schema_check import check_schema
from pytest_demoseed.errors import (
    BuildCancelled,
    DatabaseUnreachable,
    DatabaseUrlError,
    ScenarioError,
    SeedRefused,
    first_line,
)
from pytest_demoseed.scenario.declare import Scenario
from pytest_demoseed.scenario.registry import get_scenario
from pytest_demoseed.scenario.spec import ScenarioSpec, check_reused_phases, parse_assignment, resolve_spec
from pytest_demoseed.storage.async_engines import sync_input
from pytest_demoseed.storage.create import CreatedDatabase, create_database_if_missing
from pytest_demoseed.storage.engines import make_engine
from pytest_demoseed.storage.migrations import (
    NON_TRANSACTIONAL_DDL,
    MigratedRows,
    Migrations,
    check_migrated_schema,
    combined_fingerprint,
    current_heads,
    load_migrations,
    migrated_rows,
    run_migrations,
)
from pytest_demoseed.storage.seeded import (
    SEEDED_TABLE,
    SeedRecorder,
    clear_seeded,
    ensure_table,
    phase_has_rows,
    refuse_if_seeded,
)
from pytest_demoseed.storage.urls import parse_url, safe_url

if TYPE_CHECKING:  # SQLAlchemy's asyncio layer needs greenlet (the asyncio extra): not at import
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "DatabaseUnreachable",
    "DatabaseUrlError",
    "EngineOrUrl",
    "Report",
    "SeedRefused",
    "SettingsInput",
    "clear",
    "database_fingerprint",
    "fingerprint",
    "resolve",
    "seed",
]

EngineOrUrl = sa.Engine | str | URL
#: ``{"attendance": {"rate": 0.5}}`` or ``["attendance.rate=0.5", ...]``.
SettingsInput = Mapping[str, Mapping[str, Any]] | Sequence[str] | None

#: Backends whose DDL commits on its own: there the schema is created (or migrated) before the
#: build transaction.
_NON_TRANSACTIONAL_DDL = NON_TRANSACTIONAL_DDL


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(mapping))


def _thawed(value: Any) -> Any:
    """Read-only mappings (nested too) as plain dicts; other values as they are."""
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Report:
    """What ``seed()`` wrote: rows per table, seconds per phase, and the rows' fingerprint.

    ``fingerprint`` covers the rows this call wrote; on an empty database (or with
    ``clear=True``) it equals :func:`database_fingerprint` of the database afterwards.
    ``database`` is the URL with any password hidden. ``fallbacks`` lists the columns a
    factory had to build row by row (``"players: PlayerFactory: 100,000 rows built per row by
    the factory for token (LazyFunction)"``), the slow path: empty when every column compiled.
    """

    scenario: str
    seed: int
    database: str
    counts: Mapping[str, int]
    phase_seconds: Mapping[str, float]
    seconds: float
    fingerprint: str
    settings: Mapping[str, Mapping[str, Any]]
    cleared: bool = False
    fallbacks: tuple[str, ...] = ()
    #: With ``migrate``: ``{"from": [...], "to": [...]}`` (the revisions before and after) and,
    #: when the database was not migrated before, ``counts`` of the rows the migrations left
    #: (counted apart from ``counts``, and part of ``fingerprint``). Empty without ``migrate``.
    migrated: Mapping[str, Any] = field(default_factory=dict)
    dataset: Dataset | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, *, cleared: bool = False, migrated: Mapping[str, Any] | None = None
    ) -> Report:
        return cls(
            scenario=dataset.scenario,
            seed=dataset.seed,
            database=dataset.database,
            counts=_frozen(dataset.counts),
            phase_seconds=_frozen(dataset.phase_seconds),
            seconds=dataset.build_seconds,
            fingerprint=dataset.fingerprint,
            settings=_frozen({k: _frozen(v) for k, v in dataset.settings.items()}),
            cleared=cleared,
            fallbacks=tuple(dataset.fallbacks),
            migrated=_frozen(migrated or {}),
            dataset=dataset,
        )

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (what ``demoseed seed --progress json`` prints last).

        Every compared field, with ``total_rows`` after ``counts``. Not ``dataclasses.asdict``:
        it deep-copies values, and the read-only mappings here cannot be copied that way.
        """
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            if item.compare:  # not ``dataset``: the build's own object, not a value
                value = _thawed(getattr(self, item.name))
                data[item.name] = list(value) if isinstance(value, tuple) else value
            if item.name == "counts":
                data["total_rows"] = self.total_rows
        return data


# --- inputs ---------------------------------------------------------------------------------------


def _scenario(scenario: str | Scenario) -> Scenario:
    """A Scenario object as given (nothing is registered), or the registered one of that name."""
    if isinstance(scenario, Scenario):
        return scenario
    if not isinstance(scenario, str):
        raise TypeError(f"scenario must be a name or a Scenario, not {type(scenario).__name__}")
    return get_scenario(scenario)


def _overrides(settings: SettingsInput) -> dict[str, dict[str, Any]]:
    """Either shape of ``settings`` as ``{phase: {key: value}}``; bad input is a one-line error."""
    if settings is None:
        return {}
    result: dict[str, dict[str, Any]] = {}
    if isinstance(settings, Mapping):
        for phase_name, values in settings.items():
            if not isinstance(values, Mapping):
                raise ScenarioError(
                    f"settings[{phase_name!r}] must map setting names to values, "
                    f"e.g. {{'attendance': {{'rate': 0.5}}}}"
                )
            result.setdefault(str(phase_name), {}).update(values)
        return result
    items = [settings] if isinstance(settings, str) else list(settings)
    for item in items:
        if not isinstance(item, str):
            raise ScenarioError(f"bad setting {item!r}: expected PHASE.KEY=VALUE text")
        phase_name, key, value = parse_assignment(item)
        result.setdefault(phase_name, {})[key] = value
    return result


def resolve(
    scenario: str | Scenario,
    *,
    seed: int = 42,
    settings: SettingsInput = None,
    fresh_database: bool = False,
) -> ScenarioSpec:
    """Validate a scenario, seed and settings without touching any database (ScenarioError if bad).

    The command line calls this first, so bad input is reported before a connection is opened.
    Leave ``fresh_database`` off when the database is not known yet: ``seed()`` applies the
    disabled-phase rule (:func:`~pytest_demoseed.scenario.spec.check_reused_phases`) once it
    has connected.
    """
    return resolve_spec(_scenario(scenario), seed, _overrides(settings), fresh_database=fresh_database)


# --- engines --------------------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return None
    return Path(database)


@contextmanager
def _engine(engine_or_url: EngineOrUrl, *, may_create: bool = False) -> Iterator[sa.Engine]:
    """The caller's engine as is, or one made from a URL (and disposed of afterwards).

    The URL is checked first (every part, one-line DatabaseUrlError). A SQLite file that does
    not exist is an error unless ``may_create``: SQLite would otherwise create an empty file,
    which is a change to what the user has.
    """
    if isinstance(engine_or_url, sa.Engine):
        yield engine_or_url
        return
    url = parse_url(engine_or_url)
    path = _sqlite_file(url)
    if path is not None and not may_create and not path.exists():
        raise DatabaseUnreachable(f"no SQLite database file at {path} (seed --create-schema creates one)")
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _check_reachable(engine: sa.Engine) -> None:
    """Open one connection, so an unreachable database is one clear error before anything else."""
    try:
        with engine.connect():
            pass
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DatabaseError) as exc:
        raise DatabaseUnreachable(f"cannot connect to {safe_url(engine.url)}: {first_line(exc)}") from None


# --- clearing -------------------------------------------------------------------------------------


def _delete_rows(conn: sa.Connection, scenario: Scenario) -> dict[str, int]:
    """Delete what ``seed()`` recorded for the scenario (see :mod:`pytest_demoseed.storage.seeded`)."""
    check_schema(conn, scenario.metadata)
    return clear_seeded(conn, scenario)


# --- the API --------------------------------------------------------------------------------------


def seed(
    engine_or_url: EngineOrUrl | AsyncEngine,
    scenario: str | Scenario,
    *,
    seed: int = 42,
    settings: SettingsInput = None,
    on_progress: ProgressCallback | None = None,
    create_schema: bool = False,
    clear: bool = False,
    create_database: bool = False,
    append: bool = False,
    migrate: str | os.PathLike[str] | None = None,
    migrate_target: str = "head",
) -> Report:
    """Build ``scenario`` into an existing database in one transaction and report what was made.

    ``settings`` overrides phase settings (``{"attendance": {"rate": 0.5}}`` or
    ``["attendance.rate=0.5"]``). A disabled phase reuses rows already in the database.
    ``create_schema`` creates missing tables; ``clear`` first deletes the rows earlier seeds of
    the scenario wrote; both happen inside the build's transaction. ``on_progress`` receives job-status
    snapshots; returning ``pytest_demoseed.STOP`` cancels. ``create_database`` first creates the
    database the URL names if it does not exist (dropped again if the seed then fails).

    ``migrate`` (an ``alembic.ini`` or the directory holding one; needs the ``alembic`` extra)
    runs ``alembic upgrade <migrate_target>`` on the database first, through the project's
    ``env.py`` with the connection in ``config.attributes["connection"]``: inside the build's
    transaction on PostgreSQL and SQLite (a failed build undoes the migrations too), committed
    before it on MariaDB/MySQL, whose DDL is not transactional. It excludes ``create_schema``.

    The keys written are recorded in the database (``demoseed_seeded``, in the same
    transaction), so ``clear`` deletes only them. A database that already holds rows seeded for
    this scenario is refused (SeedRefused) unless ``clear`` replaces them or ``append`` adds
    another copy.

    Raises ScenarioError (one-line messages: bad input, missing tables, unreachable database),
    BuildCancelled, KeyboardInterrupt; in every failure nothing is written. Whatever ends the
    call, bad input included, ``on_progress`` gets a last event: done, failed or cancelled.

    An ``AsyncEngine`` (or an async URL) is seeded through its sync side: the same database, via the sync
    driver (asyncpg -> psycopg, aiosqlite -> pysqlite, aiomysql -> PyMySQL) for the build.
    """
    engine_or_url = sync_input(engine_or_url)
    progress = _FinalStatus(on_progress) if on_progress is not None else None
    new_file: Path | None = None
    created: CreatedDatabase | None = None
    try:
        target_scenario = _scenario(scenario)
        if progress is not None:
            progress.phases = [item.name for item in target_scenario.phases]
        if clear and append:
            raise ScenarioError("clear and append exclude each other: clear replaces the rows, append adds")
        if create_schema and migrate is not None:
            raise ScenarioError(
                "create_schema and migrate exclude each other: the migrations make the schema"
            )
        spec = resolve(target_scenario, seed=seed, settings=settings)
        migrations = load_migrations(migrate, migrate_target) if migrate is not None else None
        new_file = _new_sqlite_file(engine_or_url)
        if create_database:
            target = engine_or_url.url if isinstance(engine_or_url, sa.Engine) else engine_or_url
            created = create_database_if_missing(target)
        return _seed(
            engine_or_url,
            spec,
            on_progress=progress,
            create_schema=create_schema,
            clear=clear,
            append=append,
            migrations=migrations,
        )
    except BaseException as exc:
        if created is not None:  # this call made the database: the failed seed leaves no trace
            created.drop()
        if new_file is not None:  # SQLite made the file on connect: remove it, as it was not there
            new_file.unlink(missing_ok=True)
        if progress is not None:
            progress.ended_by(exc)
        raise


class _FinalStatus:
    """Passes snapshots on, and makes sure a poller's last one is final whatever ended the build.

    The builder reports its own failures (bad schema, database errors), cancels and interrupts;
    anything else (a bug in a user's phase, a database that vanished before the first event)
    would leave a web job showing ``running`` forever, so it is reported as ``failed`` here.
    """

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback
        self.last: dict[str, Any] | None = None
        self.callback_raised = False
        #: The scenario's phases once known, so a failure before the build lists them as usual.
        self.phases: list[str] = []

    def __call__(self, snapshot: dict[str, Any]) -> Any:
        self.last = snapshot
        try:
            return self.callback(snapshot)
        except BaseException:
            self.callback_raised = True  # the callback's own error: do not call it again
            raise

    def ended_by(self, exc: BaseException) -> None:
        if self.callback_raised or (self.last is not None and self.last["status"] in FINAL_STATUSES):
            return
        last = self.last or {
            "current_phase": None,
            "progress": {name: {} for name in self.phases},
            "errors": [],
            "elapsed": 0.0,
        }
        cancelled = isinstance(exc, (KeyboardInterrupt, BuildCancelled))
        error = {
            "phase": last["current_phase"],
            "message": first_line(exc),
            "extra": {"error": type(exc).__name__},
        }
        self.callback(
            {
                **last,
                "status": "cancelled" if cancelled else "failed",
                "errors": [*last["errors"], *([] if cancelled else [error])],
            }
        )


def _new_sqlite_file(engine_or_url: EngineOrUrl) -> Path | None:
    """The SQLite file the URL names, if it does not exist yet."""
    if isinstance(engine_or_url, sa.Engine):
        return None
    try:
        path = _sqlite_file(parse_url(engine_or_url))
    except DatabaseUrlError:  # reported where the URL is used, inside the build's error handling
        return None
    return path if path is not None and not path.exists() else None


def _seed(
    engine_or_url: EngineOrUrl,
    spec: ScenarioSpec,
    *,
    on_progress: ProgressCallback | None,
    create_schema: bool,
    clear: bool,
    append: bool,
    migrations: Migrations | None = None,
) -> Report:
    metadata = spec.scenario.metadata
    recorder = SeedRecorder(spec)
    writers = [(f"scenario {spec.scenario.name!r}", metadata)]
    #: the revisions before the migrations ran, and the rows they left (when it was at base)
    heads: dict[str, tuple[str, ...]] = {}
    found: list[MigratedRows] = []

    def migrate(conn: sa.Connection) -> None:
        assert migrations is not None
        heads["from"] = current_heads(conn)
        run_migrations(conn, migrations)
        check_migrated_schema(conn, migrations, writers)
        heads["to"] = current_heads(conn)

    with _engine(engine_or_url, may_create=create_schema or migrations is not None) as engine:
        _check_reachable(engine)
        ddl_apart = engine.dialect.name in _NON_TRANSACTIONAL_DDL
        if ddl_apart:  # DDL would commit the build's transaction half-way: tables first, apart
            with engine.connect() as conn:
                if migrations is not None:
                    migrate(conn)
                elif create_schema:
                    metadata.create_all(conn)
                check_schema(conn, metadata)  # a wrong database gets no bookkeeping table either
                ensure_table(conn)
                conn.commit()

        def prepare(conn: sa.Connection) -> None:
            if not ddl_apart:
                if migrations is not None:
                    migrate(conn)
                elif create_schema:
                    metadata.create_all(conn)
                check_schema(conn, metadata)
                ensure_table(conn)
            if migrations is not None and not heads["from"]:  # every row there is the migrations'
                found.append(
                    migrated_rows(conn, [metadata], migrations.revisions, exclude=[SEEDED_TABLE.name])
                )
            if clear:
                _delete_rows(conn, spec.scenario)
            elif not append:
                refuse_if_seeded(conn, spec.scenario)
            # the one rule for a disabled phase, now that the database's rows are known
            check_reused_phases(spec, phase_has_rows(conn, spec.scenario))

        try:
            dataset = build(
                engine,
                spec,
                on_progress=on_progress,
                database_label=safe_url(engine.url),
                prepare=prepare,
                on_batch=recorder.add,
                before_commit=recorder.write,
            )
        except Exception as exc:
            raise _as_sqlalchemy_error(engine, exc) from exc
    migrated: dict[str, Any] = {}
    if migrations is not None:
        migrated = {"from": list(heads["from"]), "to": list(heads["to"])}
        if found:
            migrated["counts"] = dict(found[0].counts)
            dataset = dataset.replace(fingerprint=combined_fingerprint(dataset.fingerprint, found[0]))
    return Report.from_dataset(dataset, cleared=clear, migrated=migrated)


def _as_sqlalchemy_error(engine: sa.Engine, exc: Exception) -> Exception:
    """A driver's own error (batches are written through its cursor) as SQLAlchemy's matching one,
    ``sa.exc.IntegrityError`` and so on, so callers catch one family on every backend."""
    base = getattr(engine.dialect.loaded_dbapi, "Error", None)
    if isinstance(base, type) and isinstance(exc, base):
        return sa.exc.DBAPIError.instance(None, None, exc, base, dialect=engine.dialect)
    return exc


def clear(engine_or_url: EngineOrUrl, scenario: str | Scenario) -> dict[str, int]:
    """Delete the rows ``seed()`` wrote for the scenario (every seed), children first, in one
    transaction; rows anyone else made stay.

    Returns the rows deleted per table. Missing tables are a SchemaMismatch; a remaining row
    that references a seeded one is a ScenarioError naming it; either way nothing is deleted.
    """
    target = _scenario(scenario)
    with _engine(engine_or_url) as engine:
        _check_reachable(engine)
        with engine.begin() as conn:
            return _delete_rows(conn, target)


def database_fingerprint(engine_or_url: EngineOrUrl, scenario: str | Scenario) -> str:
    """The fingerprint of what the scenario's tables hold now: equal data, equal fingerprint.

    Two databases seeded with the same scenario, seed and settings give the same value on any
    backend, so a team can check that staging holds the demo data it should.
    """
    target = _scenario(scenario)
    with _engine(engine_or_url) as engine:
        _check_reachable(engine)
        with engine.connect() as conn, conn.begin():
            check_schema(conn, target.metadata)
            return fingerprint_database(conn, target.metadata).hexdigest()


#: The name used inside this module and by ``demoseed fingerprint``; the package exports
#: :func:`database_fingerprint`, as ``pytest_demoseed.build.fingerprint`` is a module.
fingerprint = database_fingerprint
