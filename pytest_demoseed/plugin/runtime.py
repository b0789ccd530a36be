"""The heavy half of the plugin: everything that needs SQLAlchemy, Faker, factory_boy or the snapshot flow.

Nothing imports this module when pytest loads the plugin. :meth:`DemoRun.activate
<pytest_demoseed.plugin.run.DemoRun.activate>` opens it when a run asks for demo data, and the
fixtures' bodies reach their helpers through it; both import it lazily, for lightness (a run
that uses no demo data never loads it), not to dodge an import cycle.
"""

from __future__ import annotations

import pkgutil
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.factories.binding import bound_factories
from pytest_demoseed.generate.determinism import reseed_factory_boy, seeded_faker
from pytest_demoseed.plugin.run import DemoRun
from pytest_demoseed.plugin.settings import DemoSettings
from pytest_demoseed.plugin.state import DemoState

__all__ = [
    "DemoState",
    "activate",
    "bound_factories",
    "joined_session",
    "load_metadata",
    "reseed_factory_boy",
    "seeded_faker",
]


def activate(run: DemoRun) -> DemoState:
    """Resolve the run's settings and check them all, as one-line UsageErrors: the hook
    scenarios and entry points load, the default scenario and its overrides resolve, the
    database URL is usable and ``demo_metadata`` imports."""
    try:
        run.register_hook_scenarios()
    except ScenarioError as exc:  # a broken installed package or hook: one line, exit 4
        raise pytest.UsageError(str(exc)) from None
    settings = DemoSettings.from_config(run.config)
    state = DemoState(run.config, settings, run.run_id, run.registry, run.worker)
    state.check_database()
    if settings.metadata_path:
        load_metadata(settings.metadata_path)
    return state


def load_metadata(path: str) -> sa.MetaData:
    """``package.module:Base.metadata`` -> the MetaData object, or a one-line UsageError."""
    try:
        target: Any = pkgutil.resolve_name(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise pytest.UsageError(f"ini demo_metadata = {path}: cannot load it ({exc})") from None
    if not isinstance(target, sa.MetaData):
        raise pytest.UsageError(f"ini demo_metadata = {path} is a {type(target).__name__}, not a MetaData")
    return target


def joined_session(connection: sa.Connection) -> Session:
    """A Session inside the test's transaction: its ``commit()`` only releases a SAVEPOINT."""
    return Session(bind=connection, join_transaction_mode="create_savepoint")
