"""Hands the poll scenarios to pytest-demoseed through its hook, and binds the app's factories."""

from __future__ import annotations

import pytest
from polls_app import factories
from polls_app.scenarios import POLLS


def pytest_demoseed_scenarios(config):
    """pytest-demoseed asks each conftest and plugin for scenarios once per run."""
    return [
        POLLS,
        POLLS.derive("polls-random", "votes spread uniformly at random", ballot={"distribution": "random"}),
        POLLS.derive(
            "polls-weighted",
            "each option gets 0.8x the votes of the one before",
            ballot={"distribution": "weighted"},
        ),
    ]


@pytest.fixture()
def poll_factories(demo_bind_factories):
    demo_bind_factories(factories)
    return factories
