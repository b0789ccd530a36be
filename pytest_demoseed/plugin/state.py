"""Per-run state, kept in ``config.stash``: settings, the run id, where snapshots go, results."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.plugin.settings import DemoSettings
from pytest_demoseed.report.live import PytestLiveProgress, live_progress_for
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.storage.backends import Backend, backend_for
from pytest_demoseed.storage.provider import DatabaseProvider, Provided

__all__ = ["DemoState", "demo_state", "install_state"]


@dataclass
class DemoState:
    """What one pytest process knows about demoseed for this run."""

    config: pytest.Config
    settings: DemoSettings
    run_id: str
    datasets: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    _backend: Backend | None = field(default=None, repr=False)

    @property
    def worker(self) -> str | None:
        workerinput = getattr(self.config, "workerinput", None)
        return None if workerinput is None else str(workerinput.get("workerid"))

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

    def backend(self) -> Backend:
        return backend_for(self.base_url(), run_id=self.run_id, reuse=self.reuse)

    def start_run(self) -> None:
        """On the process that owns the run: hold its lease, clean what crashed runs left."""
        self._backend = self.backend()
        self._backend.start_run(self.snapshot_dir())

    def end_run(self) -> None:
        if self._backend is not None:
            self._backend.end_run()
            self._backend = None

    def base_url(self) -> str:
        if self.settings.db_url:
            return self.settings.db_url
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        return f"sqlite:///{Path(factory.getbasetemp()) / 'demoseed.sqlite'}"

    def make_provider(self, extra_metadata: sa.MetaData | None) -> DatabaseProvider:
        def metadata_for(spec: ScenarioSpec) -> sa.MetaData:
            return extra_metadata if extra_metadata is not None else spec.scenario.metadata

        return DatabaseProvider(
            self.base_url(),
            self.settings.default_spec,
            worker=self.worker,
            snapshot_dir=self.snapshot_dir(),
            run_id=self.run_id,
            reuse=self.reuse,
            rebuild=self.settings.rebuild,
            keep=self.settings.keep,
            metadata_for=metadata_for,
            on_progress=self.progress_reporter(),
        )

    def progress_reporter(self) -> PytestLiveProgress | None:
        """Live build progress for ``--demo-progress``; never in an xdist worker, whose output
        is not the user's terminal (the terminal summary reports each worker's builds)."""
        if self.worker:
            return None
        return live_progress_for(self.config, self.settings.progress)

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

    def record(self, provider: DatabaseProvider) -> None:
        for provided in provider.provided():
            extra = provided.dataset.extra
            timings = {k: extra.get(k, 0.0) for k in _TIMINGS}
            self.datasets.append({**provided.dataset.as_dict(), **timings, "worker": self.worker or "main"})

    def drop_snapshots(self) -> None:
        """This run's snapshots (not kept ones) and scratch databases, at the very end."""
        if self.reuse:
            return
        try:
            self.backend().drop_snapshots(self.snapshot_dir())
        except ScenarioError as exc:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"demoseed: could not drop this run's snapshots: {exc}", yellow=True)


#: Per-worker timings kept beside the Dataset in the summary (they are not part of it).
_TIMINGS = ("snapshot_build_seconds", "clone_seconds", "wait_seconds")

_STATE = pytest.StashKey[DemoState]()


def install_state(config: pytest.Config, settings: DemoSettings) -> DemoState:
    workerinput = getattr(config, "workerinput", None)
    run_id = (workerinput or {}).get("demoseed_run_id") or uuid.uuid4().hex[:8]
    state = DemoState(config, settings, run_id)
    config.stash[_STATE] = state
    return state


def demo_state(config: pytest.Config) -> DemoState:
    try:
        return config.stash[_STATE]
    except KeyError:
        raise pytest.UsageError("pytest-demoseed is not configured (was the plugin disabled?)") from None


def summarize(datasets: list[dict[str, Any]]) -> list[Dataset]:
    local = {"worker", *_TIMINGS}
    return [Dataset.from_dict({k: v for k, v in d.items() if k not in local}) for d in datasets]
