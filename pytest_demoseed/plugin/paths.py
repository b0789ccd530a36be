"""Where a run keeps its data: the directory its workers share, its snapshots, its default database.

Path policy only (pytest's base temp dir, the cache dir, ``--demo-cache-dir``), apart from the
run state that uses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_demoseed.plugin.settings import DemoSettings

__all__ = ["RunPaths"]


@dataclass(frozen=True)
class RunPaths:
    """The paths of one pytest process's run (a worker's, or the only process's)."""

    config: pytest.Config
    settings: DemoSettings
    worker: str | None

    def run_dir(self) -> Path:
        """A directory shared by every xdist worker of this run (pytest's base temp)."""
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        base = Path(factory.getbasetemp())
        return base.parent if self.worker else base

    @property
    def reuse(self) -> bool:
        """Snapshots outlive the run: ``--demo-reuse``, or a cache dir given."""
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
        """``--demo-db-url`` (or its env/ini), else a SQLite file in pytest's base temp dir."""
        if self.settings.db_url:
            return self.settings.db_url
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        return f"sqlite:///{Path(factory.getbasetemp()) / 'demoseed.sqlite'}"
