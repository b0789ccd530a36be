"""Registers the team scenarios with pytest-demoseed and binds the app's session global per test."""

from __future__ import annotations

import pytest
from teams_app import db, factories
from teams_app.scenarios import SCENARIOS

from pytest_demoseed import register

for scenario in SCENARIOS:
    register(scenario)


@pytest.fixture()
def team_factories(demo_bind_factories):
    """The factories' ``db.Session()`` returns the test's session until the test ends."""
    demo_bind_factories(module_globals=[(db, "Session")])
    return factories
