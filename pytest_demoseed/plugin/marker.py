"""The ``demo_scenario`` marker: its arguments, validated the way Python validates a call.

Light (the hooks import it when pytest starts): resolving a marker's spec is the run state's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_demoseed.plugin.options import parse_seed

if TYPE_CHECKING:
    from pytest_demoseed.plugin.state import DemoState
    from pytest_demoseed.scenario.spec import ScenarioSpec

__all__ = ["MARKER", "MARKER_HELP", "marker_spec", "spec_for_item"]

MARKER = "demo_scenario"
MARKER_HELP = (
    "demo_scenario(name=None, *, seed=None, **phase_settings): give this test (class, module) "
    "that scenario, e.g. demo_scenario('small', seed=7, attendance={'rate': 0.2})"
)


def _arguments(
    name: str | None = None, *, seed: int | None = None, **settings: Mapping[str, Any]
) -> tuple[str | None, int | None, dict[str, Mapping[str, Any]]]:
    return name, seed, settings


def marker_spec(mark: pytest.Mark, state: DemoState, where: str) -> ScenarioSpec:
    """The spec a marker asks for, or a one-line UsageError naming the test."""
    try:
        name, seed, phase_settings = _arguments(*mark.args, **mark.kwargs)
    except TypeError as exc:
        raise pytest.UsageError(f"{where}: bad @pytest.mark.{MARKER}: {exc}") from None
    if name is not None and not isinstance(name, str):
        raise pytest.UsageError(f"{where}: @pytest.mark.{MARKER} name must be a string, got {name!r}")
    for phase_name, values in phase_settings.items():
        if not isinstance(values, Mapping):
            raise pytest.UsageError(
                f"{where}: @pytest.mark.{MARKER}({phase_name}=...) takes a dict of settings, "
                f"e.g. {phase_name}={{'enabled': False}}"
            )
    checked_seed = None if seed is None else parse_seed(seed, f"{where}: marker seed")
    try:
        return state.spec_for(name or state.settings.scenario, checked_seed, phase_settings)
    except pytest.UsageError as exc:
        raise pytest.UsageError(f"{where}: {exc}") from None


def spec_for_item(item: pytest.Item, state: DemoState) -> ScenarioSpec:
    """The closest marker's spec, or the run's."""
    mark = item.get_closest_marker(MARKER)
    if mark is None:
        return state.default_spec
    return marker_spec(mark, state, item.nodeid)
