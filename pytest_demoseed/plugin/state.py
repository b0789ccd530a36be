"""An activated run's state: settings, specs, the one backend, where snapshots go, results.

Made by :func:`pytest_demoseed.plugin.runtime.activate` and kept on the run
(:class:`~pytest_demoseed.plugin.run.DemoRun`); part of the heavy half of the plugin.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.errors import MigrationError, ScenarioError, SchemaMismatch
from pytest_demoseed.generate.determinism import reseed_factory_boy
from pytest_demoseed.plugin.marker import MARKER, data_used, marker_spec, resets_sequences, spec_for_item
from pytest_demoseed.plugin.options import DEFAULT_DATABASE
from pytest_demoseed.plugin.paths import RunPaths
from pytest_demoseed.plugin.settings import DemoSettings
from pytest_demoseed.plugin.specs import RunSpecs
from pytest_demoseed.report.live import PytestLiveProgress, live_progress_for
from pytest_demoseed.report.summary import summary_lines, summary_record
from pytest_demoseed.scenario.registry import Registry
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.storage.backends import Backend, backend_for
from pytest_demoseed.storage.engines import safe_url
from pytest_demoseed.storage.migrations import Migrations, load_migrations
from pytest_demoseed.storage.provider import DatabaseProvider, Provided
from pytest_demoseed.storage.schema import load_metadata

if TYPE_CHECKING:  # runtime imports this module: the name is for the type checker only
    from pytest_demoseed.plugin.runtime import PerTest

__all__ = ["DemoState"]


@dataclass
class DemoState:
    """What one pytest process knows about demoseed once the run uses it."""

    config: pytest.Config
    settings: DemoSettings
    run_id: str
    registry: Registry
    worker: str | None
    datasets: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    _started: bool = field(default=False, repr=False)
    #: snapshot key -> build seconds of the snapshots this process built at session start
    _prebuilt: dict[str, float] = field(default_factory=dict, repr=False)
    _prepare_thread: threading.Thread | None = field(default=None, repr=False)
    _prepare_outcome: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.specs = RunSpecs(self.settings, self.registry)
        self.default_spec = self.specs.default
        self.settings = self.settings.resolved(self.default_spec)
        self.migrations = self._load_migrations()

    def _load_migrations(self) -> Migrations | None:
        """The run's Alembic migrations, checked now (before any test): a one-line UsageError
        naming the option for no alembic.ini, no Alembic, an unknown or ambiguous target."""
        if self.settings.schema != "alembic":
            return None
        assert self.settings.alembic is not None
        try:
            return load_migrations(self.settings.alembic, self.settings.alembic_target)
        except MigrationError as exc:
            message = str(exc)
            if "target" in message and "alembic_target" in self.settings.sources:
                source = self.settings.source("alembic_target", "--demo-alembic-target")
            else:
                source = self.settings.source("alembic", "--demo-alembic")
            raise pytest.UsageError(f"{source}: {message}") from None

    def check_markers(self, items: list[pytest.Item]) -> None:
        """Every marker's spec resolves, or a one-line UsageError naming the test."""
        for item in items:
            mark = item.get_closest_marker(MARKER)
            if mark is not None:
                marker_spec(mark, self.specs, item.nodeid)
            resets_sequences(item, self.settings.reset_sequences)

    def snapshot_keys(self, items: list[pytest.Item]) -> list[tuple[str, str]]:
        """(key, scenario) of every snapshot the tests need, as a run would compute them: the
        default spec's if a test takes ``demo_engine``, each test's own spec if it takes a
        per-test fixture. No database is touched."""
        specs: dict[str, ScenarioSpec] = {}
        for item in items:
            own, engine = data_used(item)
            if own:
                spec = spec_for_item(item, self.specs)
                specs[spec.key] = spec
            if engine:
                specs[self.default_spec.key] = self.default_spec
        provider = self.make_provider(self._ini_metadata(), progress=False)
        return sorted((provider.key_for(spec), spec.scenario_name) for spec in specs.values())

    def header(self) -> str:
        url = self.settings.db_url
        schema = ""
        if self.migrations is not None:
            schema = f" schema=alembic:{self.migrations.shown}"
        elif self.settings.schema != "create_all":
            schema = f" schema={self.settings.schema}"
        return (
            f"demoseed: scenario={self.settings.scenario} seed={self.settings.seed} "
            f"database={safe_url(url) if url else DEFAULT_DATABASE}{schema}"
        )

    # --- where the data lives ---------------------------------------------------------------

    @cached_property
    def paths(self) -> RunPaths:
        return RunPaths(self.config, self.settings, self.worker)

    @property
    def reuse(self) -> bool:
        return self.paths.reuse

    @cached_property
    def backend(self) -> Backend:
        """The one Backend of this process's run: validation, the lease, every database."""
        return backend_for(self.paths.base_url(), run_id=self.run_id, reuse=self.reuse)

    def check_database(self) -> None:
        """A database URL that cannot be used is a UsageError now, before any test runs, naming
        where the URL came from."""
        url = self.settings.db_url
        if not url:
            return
        try:
            self.backend.sibling_url(url, [])
            if self.worker is None:  # workers: the controller checked
                self.backend.check_reachable(url)
        except ScenarioError as exc:
            raise pytest.UsageError(f"{self._url_source}: {exc}") from None

    @property
    def _url_source(self) -> str:
        """``--demo-db-url``, ``DEMOSEED_DATABASE_URL`` or ``ini demo_db_url``: for messages."""
        return self.settings.source("db_url", "--demo-db-url")

    def start_run(self) -> None:
        """On the process that owns the run: hold its lease, clean what crashed runs left; once."""
        if self._started:
            return
        self._started = True
        try:
            self.backend.start_run(self.paths.snapshot_dir())
        except ScenarioError as exc:
            raise pytest.UsageError(f"{self._url_source}: {exc}") from None
        keys_only = bool(self.config.getoption("demo_snapshot_keys", None))
        if (
            self.settings.schema != "create_all"
            and os.environ.get("DEMOSEED_BUILD_PER_WORKER") != "1"
            and not keys_only
        ):
            self.prepare_default()

    @property
    def _xdist(self) -> bool:
        return bool(getattr(self.config.option, "numprocesses", None))

    def prepare_default(self) -> None:
        """With a migrated (or existing) schema, the default spec's snapshot is made now, on the
        process that owns the run, before any test: a migration that fails, or a schema that
        lacks what the scenario writes, ends the run with one line and exit code 4.

        Under xdist it is made in a thread while the workers start (they wait for its lock and
        only clone); the run waits for it before its test loop (:meth:`finish_prepare`, from
        ``pytest_collection``), so an error still ends the run before any test. Other build
        errors fail the tests that use the data, as a build at first use would."""
        if not self._xdist:
            self._prepare_outcome = self._prepare()
            self.finish_prepare()
            return
        self._prepare_thread = threading.Thread(target=self._prepare_in_thread, name="demoseed-prepare")
        self._prepare_thread.start()
        self.config.pluginmanager.register(_AwaitPrepare(self), "demoseed-await-prepare")

    def _prepare_in_thread(self) -> None:
        try:
            self._prepare_outcome = self._prepare(progress=False)
        except BaseException as exc:  # handed to the main thread by finish_prepare
            self._prepare_outcome = exc

    def _prepare(self, progress: bool = True) -> BaseException | tuple[Dataset, float, Any] | None:
        spec = self.default_spec
        provider = self.make_provider(self._ini_metadata(), progress=progress)
        try:
            made = provider.prepare(spec)
        except (MigrationError, SchemaMismatch) as exc:
            source = self.settings.source("alembic", "--demo-alembic")
            if self.settings.schema == "none":
                source = self.settings.source("schema", "--demo-schema")
            return pytest.UsageError(f"{source}: {exc}")
        except ScenarioError as exc:
            self.failures[spec.key] = f"demoseed: cannot build scenario {spec.scenario_name!r}: {exc}"
            return None
        except sa.exc.SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            self.failures[spec.key] = (
                f"demoseed: database error while building {spec.scenario_name!r}: {first}"
            )
            return None
        if made is None:
            return None
        dataset, seconds = made
        self._prebuilt.update(provider.prebuilt)
        return dataset, seconds, provider.migrated_for(provider.key_for(spec))

    def finish_prepare(self) -> None:
        """Wait for the session-start build (if any); its error is raised here, once."""
        thread = self._prepare_thread
        if thread is not None:
            thread.join()
            self._prepare_thread = None
        outcome, self._prepare_outcome = self._prepare_outcome, None
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is not None and self._xdist:  # the workers only clone: say who built it
            dataset, seconds, migrated = outcome
            record = summary_record(dataset, self.default_spec.scenario, "controller")
            record.update(
                snapshot_build_seconds=seconds,
                snapshot_only=True,
                database="the snapshot the workers clone",
                migrated=migrated,
            )
            self.datasets.append(record)

    def _ini_metadata(self) -> sa.MetaData | None:
        """ini ``demo_metadata`` as the ``demo_metadata`` fixture loads it (checked at activation)."""
        if not self.settings.metadata_path:
            return None
        try:
            return load_metadata(self.settings.metadata_path)
        except ScenarioError:  # reported by the fixture, as a usage error
            return None

    def end_run(self) -> None:
        if self._prepare_thread is not None:  # the run ended before its tests: let the build end
            self._prepare_thread.join()
            self._prepare_thread = None
        if self._started:
            self._started = False
            self.backend.end_run()

    # --- providing data to tests ------------------------------------------------------------

    def make_provider(self, extra_metadata: sa.MetaData | None, progress: bool = True) -> DatabaseProvider:
        def metadata_for(spec: ScenarioSpec) -> sa.MetaData:
            return extra_metadata if extra_metadata is not None else spec.scenario.metadata

        return DatabaseProvider(
            self.paths.base_url(),
            self.default_spec,
            worker=self.worker,
            snapshot_dir=self.paths.snapshot_dir(),
            run_id=self.run_id,
            reuse=self.reuse,
            rebuild=self.settings.rebuild,
            keep=self.settings.keep,
            metadata_for=metadata_for,
            on_progress=self.progress_reporter() if progress else None,
            backend=self.backend,
            schema=self.settings.schema,
            migrations=self.migrations,
            prebuilt=self._prebuilt,
            portable=self.settings.cache_dir is not None,
        )

    def progress_reporter(self) -> PytestLiveProgress | None:
        """Live build progress for ``--demo-progress``; never in an xdist worker, whose output
        is not the user's terminal (the terminal summary reports each worker's builds)."""
        if self.worker:
            return None
        return live_progress_for(self.config, self.settings.progress)

    def provide_for(self, item: pytest.Item, provider: DatabaseProvider) -> Provided:
        """The data of the test's spec (its marker's, or the run's)."""
        return self.provide(provider, spec_for_item(item, self.specs))

    def provide(self, provider: DatabaseProvider, spec: ScenarioSpec) -> Provided:
        """The spec's data in this worker; a spec that failed once fails fast after."""
        if spec.key in self.failures:
            pytest.fail(self.failures[spec.key], pytrace=False)
        try:
            return provider.get(spec)
        except ScenarioError as exc:
            message = f"demoseed: cannot build scenario {spec.scenario_name!r}: {exc}"
        except sa.exc.SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            message = f"demoseed: database error while building {spec.scenario_name!r}: {first}"
        self.failures[spec.key] = message
        pytest.fail(message, pytrace=False)

    def resets_sequences(self, item: pytest.Item) -> bool:
        """Whether ``item``'s key counters are put back around it: its marker, else the ini."""
        return resets_sequences(item, self.settings.reset_sequences)

    @staticmethod
    def reseed_before_call(item: pytest.Function, provided: Provided | PerTest) -> None:
        """factory_boy's shared random, reseeded for the test body (see the hook that calls it)."""
        reseed_factory_boy(provided.dataset.seed, "test", item.nodeid, "call")

    # --- reporting ------------------------------------------------------------------------------

    def record(self, provider: DatabaseProvider) -> None:
        """What this worker provided, for the terminal summary (sent to the controller under xdist)."""
        for provided in provider.provided():
            record = summary_record(provided.dataset, provided.spec.scenario, self.worker or "main")
            self.datasets.append(record)

    def summary_lines(self) -> list[str]:
        return summary_lines(self.datasets)

    def drop_snapshots(self) -> None:
        """This run's snapshots (not kept ones) and scratch databases, at the very end."""
        if self.reuse:
            return
        try:
            self.backend.drop_snapshots(self.paths.snapshot_dir())
        except ScenarioError as exc:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"demoseed: could not drop this run's snapshots: {exc}", yellow=True)


class _AwaitPrepare:
    """Registered while the session-start build runs in a thread (xdist): the controller waits
    for it before its test loop, so a bad migration is still a usage error (exit code 4)."""

    def __init__(self, state: DemoState) -> None:
        self.state = state

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self) -> None:
        self.state.finish_prepare()
