"""Hooks other plugins and conftest files implement to extend pytest-demoseed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_demoseed.scenario.declare import Scenario


def pytest_demoseed_scenarios(config: pytest.Config) -> Scenario | Iterable[Scenario] | None:
    """Return scenarios (one or several) to register for this run.

    Called once, when the run starts using demo data (at configure time when a demo option is
    given, else at collection), and by ``--demo-list-scenarios``; a scenario returned here
    replaces a registered one of the same name.
    """
