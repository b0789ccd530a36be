"""What every pytest run has, whether it uses demo data or not: its scenario registry and run id.

Light: imported when pytest loads the plugin (standard library, pytest and the registry only).
:meth:`DemoRun.activate` is the one door to the heavy half, :mod:`pytest_demoseed.plugin.runtime`
(SQLAlchemy, Faker, factory_boy, the snapshot flow): the hooks open it when the run is given a
demo option or a collected test uses a demo fixture or the marker, so a run that uses neither
pays nothing for the plugin.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from pytest_demoseed.scenario.registry import Registry, install

if TYPE_CHECKING:
    from pytest_demoseed.plugin.state import DemoState

__all__ = ["DemoRun", "begin_run", "demo_run"]


@dataclass
class DemoRun:
    """One pytest process's share of a run: the registry its conftest files and hooks fill,
    the run id shared with its xdist workers, and, once activated, the heavy :class:`DemoState`."""

    config: pytest.Config
    registry: Registry = field(default_factory=Registry)
    state: DemoState | None = None
    session_started: bool = False
    _own_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8], repr=False)

    @property
    def worker(self) -> str | None:
        workerinput = getattr(self.config, "workerinput", None)
        return None if workerinput is None else str(workerinput.get("workerid"))

    @property
    def run_id(self) -> str:
        """The controller's id in an xdist worker (``workerinput`` is set only after the worker's
        config is made, so it is read here, not when the run begins), else this process's."""
        workerinput = getattr(self.config, "workerinput", None) or {}
        return str(workerinput.get("demoseed_run_id") or self._own_id)

    def register_hook_scenarios(self) -> None:
        """What ``pytest_demoseed_scenarios`` implementations return replaces same-named ones,
        the installed packages' too (so those are loaded first)."""
        self.registry.load_entry_points()
        for found in self.config.hook.pytest_demoseed_scenarios(config=self.config):
            self.registry.register_all(found, source="pytest_demoseed_scenarios hook", replace=True)

    def activate(self) -> DemoState:
        """Resolve and validate the run's settings and make its state, once (a UsageError when
        the input is bad); the process that owns the run starts it once its session has begun."""
        if self.state is None:
            # The heavy half, imported only here and in the fixtures' bodies: lightness, not an
            # import cycle (runtime imports nothing of the hooks module).
            from pytest_demoseed.plugin import runtime

            self.state = runtime.activate(self)
        if self.session_started and self.worker is None:
            self.state.start_run()
        return self.state

    def start_session(self) -> None:
        self.session_started = True
        if self.state is not None and self.worker is None:
            self.state.start_run()


_RUN = pytest.StashKey[DemoRun]()


def begin_run(config: pytest.Config) -> DemoRun:
    """Give the run its own registry, current until the config is cleaned up.

    Called before any conftest is imported, so ``register()`` in a conftest fills this run's
    registry; an in-process inner run (pytester) begins its own and the outer one comes back
    when the inner one ends.
    """
    run = DemoRun(config)
    restore: Callable[[], None] = install(run.registry)
    config.add_cleanup(restore)
    config.stash[_RUN] = run
    return run


def demo_run(config: pytest.Config) -> DemoRun:
    """This config's run, begun now if the plugin was registered after conftests loaded."""
    found = config.stash.get(_RUN, None)
    return found if found is not None else begin_run(config)
