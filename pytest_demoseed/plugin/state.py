"""An activated run's state: settings, specs, the one backend, where snapshots go, results.

Made by :func:`pytest_demoseed.plugin.runtime.activate` and kept on the run
(:class:`~pytest_demoseed.plugin.run.DemoRun`); part of the heavy half of the plugin.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.generate.determinism import reseed_factory_boy
from pytest_demoseed.plugin.marker import MARKER, marker_spec, resets_sequences, spec_for_item
from pytest_demoseed.plugin.options import DEFAULT_DATABASE
from pytest_demoseed.plugin.settings import DemoSettings
from pytest_demoseed.report.live import PytestLiveProgress, live_progress_for
from pytest_demoseed.report.summary import describe_overrides, describe_phases, describe_rows
from pytest_demoseed.scenario.declare import Scenario
from pytest_demoseed.scenario.registry import Registry
from pytest_demoseed.scenario.spec import ScenarioSpec, resolve_spec
from pytest_demoseed.storage.backends import Backend, backend_for
from pytest_demoseed.storage.engines import safe_url
from pytest_demoseed.storage.provider import DatabaseProvider, Provided

__all__ = ["DemoState"]

#: Per-worker values kept beside the Dataset in the summary (they are not part of it).
_TIMINGS = ("snapshot_build_seconds", "clone_seconds", "wait_seconds")
_LOCAL = frozenset({"worker", "phases", "overrides", "rows", *_TIMINGS})


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

    def __post_init__(self) -> None:
        self.default_spec = self.spec_for(None, None, {})
        self.settings = self.settings.resolved(self.default_spec)

    def spec_for(
        self, scenario: str | None, seed: int | None, settings: Mapping[str, Mapping[str, Any]]
    ) -> ScenarioSpec:
        """The spec for a test: the run's overrides, then the marker's settings on top; the
        scenario (None: the run's) is looked up in this run's registry.

        A bad value is a UsageError naming where it came from: the run's scenario or a
        ``demo_set`` override names its option, variable or ini value; a marker's own values
        are named by the caller (the test's node id).
        """
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in self.settings.given.items()}
        for phase_name, values in settings.items():
            merged.setdefault(phase_name, {}).update(values)
        name = self.settings.scenario if scenario is None else scenario
        try:
            found = self.registry.get(name)
        except ScenarioError as exc:
            source = self.settings.sources.get("scenario") if scenario is None else None
            raise pytest.UsageError(f"{source}: {exc}" if source else str(exc)) from None
        try:
            return resolve_spec(found, self.settings.seed if seed is None else seed, merged)
        except ScenarioError as exc:
            blamed = self._blame(found, settings)
            raise pytest.UsageError(f"{blamed}: {exc}" if blamed else str(exc)) from None

    def _blame(self, scenario: Scenario, marker: Mapping[str, Mapping[str, Any]]) -> str:
        """Where the run's overrides that broke ``scenario`` came from: the first one that is
        bad on its own (unknown phase or setting, bad value), else every run source involved
        (they clash only together, e.g. a phase off that another needs); empty when the
        marker's own values fail without them, or no run override is involved."""
        involved: list[str] = []
        for phase_name, values in self.settings.given.items():
            for key, value in values.items():
                if key in marker.get(phase_name, {}):
                    continue  # the marker's value replaced it
                source = self.settings.source(f"{phase_name}.{key}", "--demo-set")
                try:
                    found = scenario.phase(phase_name)
                    found.resolve({**scenario.overrides.get(phase_name, {}), key: value})
                except ScenarioError:
                    return source
                if source not in involved:
                    involved.append(source)
        if marker:
            try:
                resolve_spec(scenario, self.settings.seed, marker)
            except ScenarioError:
                return ""
        return ", ".join(involved)

    def check_markers(self, items: list[pytest.Item]) -> None:
        """Every marker's spec resolves, or a one-line UsageError naming the test."""
        for item in items:
            mark = item.get_closest_marker(MARKER)
            if mark is not None:
                marker_spec(mark, self, item.nodeid)
            resets_sequences(item, self.settings.reset_sequences)

    def header(self) -> str:
        url = self.settings.db_url
        return (
            f"demoseed: scenario={self.settings.scenario} seed={self.settings.seed} "
            f"database={safe_url(url) if url else DEFAULT_DATABASE}"
        )

    # --- where the data lives ---------------------------------------------------------------

    def run_dir(self) -> Path:
        """A directory shared by every xdist worker of this run (pytest's base temp)."""
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        base = Path(factory.getbasetemp())
        return base.parent if self.worker else base

    @property
    def reuse(self) -> bool:
        return self.settings.reuse or self.settings.cache_dir is not None

    def snapshot_dir(self) -> Path:
        """Shared by the workers; ``DEMOSEED_BUILD_PER_WORKER=1`` (benchmarks only) gives each
        worker its own, so each builds, as pytest-django users pay today."""
        if self.settings.cache_dir is not None:
            found = self.settings.cache_dir
        elif self.settings.reuse:
            found = Path(self.config.cache.mkdir("demoseed"))
        else:
            found = self.run_dir() / "demoseed-snapshots"
        if os.environ.get("DEMOSEED_BUILD_PER_WORKER") == "1" and self.worker:
            found = found / self.worker
        return found

    def base_url(self) -> str:
        if self.settings.db_url:
            return self.settings.db_url
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        return f"sqlite:///{Path(factory.getbasetemp()) / 'demoseed.sqlite'}"

    @cached_property
    def backend(self) -> Backend:
        """The one Backend of this process's run: validation, the lease, every database."""
        return backend_for(self.base_url(), run_id=self.run_id, reuse=self.reuse)

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
            self.backend.start_run(self.snapshot_dir())
        except ScenarioError as exc:
            raise pytest.UsageError(f"{self._url_source}: {exc}") from None

    def end_run(self) -> None:
        if self._started:
            self._started = False
            self.backend.end_run()

    # --- providing data to tests ------------------------------------------------------------

    def make_provider(self, extra_metadata: sa.MetaData | None) -> DatabaseProvider:
        def metadata_for(spec: ScenarioSpec) -> sa.MetaData:
            return extra_metadata if extra_metadata is not None else spec.scenario.metadata

        return DatabaseProvider(
            self.base_url(),
            self.default_spec,
            worker=self.worker,
            snapshot_dir=self.snapshot_dir(),
            run_id=self.run_id,
            reuse=self.reuse,
            rebuild=self.settings.rebuild,
            keep=self.settings.keep,
            metadata_for=metadata_for,
            on_progress=self.progress_reporter(),
            backend=self.backend,
        )

    def progress_reporter(self) -> PytestLiveProgress | None:
        """Live build progress for ``--demo-progress``; never in an xdist worker, whose output
        is not the user's terminal (the terminal summary reports each worker's builds)."""
        if self.worker:
            return None
        return live_progress_for(self.config, self.settings.progress)

    def provide_for(self, item: pytest.Item, provider: DatabaseProvider) -> Provided:
        """The data of the test's spec (its marker's, or the run's)."""
        return self.provide(provider, spec_for_item(item, self))

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
    def reseed_before_call(item: pytest.Function, provided: Provided) -> None:
        """factory_boy's shared random, reseeded for the test body (see the hook that calls it)."""
        reseed_factory_boy(provided.dataset.seed, "test", item.nodeid, "call")

    # --- reporting ------------------------------------------------------------------------------

    def record(self, provider: DatabaseProvider) -> None:
        """What this worker provided, as plain values an xdist worker can send to the controller;
        the lines that need the spec's scenario object (its defaults, its tables, its phases)
        are written here, where it is at hand."""
        for provided in provider.provided():
            dataset, scenario = provided.dataset, provided.spec.scenario
            self.datasets.append(
                {
                    **dataset.as_dict(),
                    **{k: dataset.extra.get(k, 0.0) for k in _TIMINGS},
                    "overrides": describe_overrides(dataset, scenario),
                    "rows": describe_rows(dataset, scenario),
                    "phases": describe_phases(dataset, scenario),
                    "worker": self.worker or "main",
                }
            )

    def summary_lines(self) -> list[str]:
        """The terminal summary's lines: each spec once (its settings that differ from the
        scenario's defaults in its first line), then the worker that built or cloned it."""
        seen: dict[str, list[dict[str, Any]]] = {}
        for item in self.datasets:
            seen.setdefault(item["spec_key"], []).append(item)
        lines = []
        for items in seen.values():
            first = items[0]
            dataset = Dataset.from_dict({k: v for k, v in first.items() if k not in _LOCAL})
            overrides = f" {first['overrides']}" if first.get("overrides") else ""
            lines.append(
                f"{dataset.scenario} seed={dataset.seed}{overrides} fingerprint={dataset.fingerprint} "
                f"({dataset.total_rows:,} rows)"
            )
            lines.append("  rows: " + first["rows"])
            lines.append("  phases: " + first["phases"])
            if dataset.fallbacks:
                lines.append("  per-row fallbacks: " + "; ".join(dataset.fallbacks))
            for item in sorted(items, key=lambda d: d["worker"]):
                lines.append(f"  {item['worker']}: {_timing(item)} -> {item['database']}")
        return lines

    def drop_snapshots(self) -> None:
        """This run's snapshots (not kept ones) and scratch databases, at the very end."""
        if self.reuse:
            return
        try:
            self.backend.drop_snapshots(self.snapshot_dir())
        except ScenarioError as exc:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"demoseed: could not drop this run's snapshots: {exc}", yellow=True)


def _timing(item: dict[str, Any]) -> str:
    """``built in 1.2s, cloned in 0.05s`` or ``cloned in 0.05s (waited 1.2s for the build)``."""
    clone, wait = item.get("clone_seconds", 0.0), item.get("wait_seconds", 0.0)
    text = f"cloned in {clone:.3f}s"
    if item["source"] == "built":
        text = f"built in {item.get('snapshot_build_seconds') or item['source_seconds']:.3f}s, " + text
    return text + (f" (waited {wait:.3f}s for the snapshot lock)" if wait >= 0.01 else "")
