"""Hands the poll scenarios to pytest-demoseed through its hook, and binds the app's factories."""

from __future__ import annotations

import pytest
from polls_app import factories
from polls_app.scenarios import POLLS, POLLS_RANDOM, POLLS_WEIGHTED


def pytest_demoseed_scenarios(config):
    """pytest-demoseed asks each conftest and plugin for scenarios once per run."""
    return [POLLS, POLLS_RANDOM, POLLS_WEIGHTED]


@pytest.fixture()
def poll_factories(demo_bind_factories):
    demo_bind_factories(factories)
    return factories
