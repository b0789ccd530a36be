"""Per-run state, kept in ``config.stash``: settings, the run id, where snapshots go, results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from .backends import backend_for
from .databases import DatabaseProvider, Provided
from .dataset import Dataset
from .scenario import ScenarioError
from .settings import DemoSettings
from .spec import ScenarioSpec

__all__ = ["DemoState", "demo_state", "install_state"]


@dataclass
class DemoState:
    """What one pytest process knows about demoseed for this run."""

    config: pytest.Config
    settings: DemoSettings
    run_id: str
    datasets: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def worker(self) -> str | None:
        workerinput = getattr(self.config, "workerinput", None)
        return None if workerinput is None else str(workerinput.get("workerid"))

    def run_dir(self) -> Path:
        """A directory shared by every xdist worker of this run (pytest's base temp)."""
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        base = Path(factory.getbasetemp())
        return base.parent if self.worker else base

    def snapshot_dir(self) -> Path:
        if self.settings.cache_dir is not None:
            return self.settings.cache_dir
        if self.settings.reuse:
            return Path(self.config.cache.mkdir("demoseed"))  # type: ignore[union-attr]
        return self.run_dir() / "demoseed-snapshots"

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
            reuse=self.settings.reuse or self.settings.cache_dir is not None,
            keep=self.settings.keep,
            metadata_for=metadata_for,
            on_progress=self.progress_reporter(),
        )

    def progress_reporter(self) -> Any:
        if self.settings.progress == "none" or self.worker:
            return None
        try:
            from .reporters import terminal_reporter_for
        except ImportError:
            return None
        return terminal_reporter_for(self.config, self.settings.progress)

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
            self.datasets.append({**provided.dataset.as_dict(), "worker": self.worker or "main"})

    def drop_snapshots(self) -> None:
        if self.settings.reuse or self.settings.cache_dir is not None:
            return
        try:
            backend_for(self.base_url(), run_id=self.run_id).drop_snapshots(self.snapshot_dir())
        except ScenarioError:
            pass


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
    return [Dataset.from_dict({k: v for k, v in d.items() if k != "worker"}) for d in datasets]
