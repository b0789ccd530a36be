"""The ``demo_scenario`` and ``demo_reset_sequences`` markers: their arguments, validated the way
Python validates a call.

Light (the hooks import it when pytest starts): resolving a marker's spec is the job of
:class:`~pytest_demoseed.plugin.specs.RunSpecs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_demoseed.plugin.options import parse_seed

if TYPE_CHECKING:
    from pytest_demoseed.plugin.specs import RunSpecs
    from pytest_demoseed.scenario.spec import ScenarioSpec

__all__ = [
    "data_used",
    "MARKER",
    "MARKER_HELP",
    "RESET_MARKER",
    "RESET_MARKER_HELP",
    "marker_spec",
    "resets_sequences",
    "scenario_name",
    "spec_for_item",
]

MARKER = "demo_scenario"
MARKER_HELP = (
    "demo_scenario(name=None, *, seed=None, **phase_settings): give this test (class, module) "
    "that scenario, e.g. demo_scenario('small', seed=7, attendance={'rate': 0.2})"
)
RESET_MARKER = "demo_reset_sequences"
RESET_MARKER_HELP = (
    "demo_reset_sequences(enabled=True): start and leave this test (class, module) with the "
    "sequences / AUTO_INCREMENT counters the snapshot had, so keys of rows it inserts do not depend "
    "on test order (PostgreSQL, MariaDB); demo_reset_sequences(False) opts out of ini "
    "demo_reset_sequences"
)


def _arguments(
    name: str | None = None, *, seed: int | None = None, **settings: Mapping[str, Any]
) -> tuple[str | None, int | None, dict[str, Mapping[str, Any]]]:
    return name, seed, settings


def marker_spec(mark: pytest.Mark, specs: RunSpecs, where: str) -> ScenarioSpec:
    """The spec a marker asks for, or a one-line UsageError naming the test."""
    try:
        name, seed, phase_settings = _arguments(*mark.args, **mark.kwargs)
    except TypeError as exc:
        raise pytest.UsageError(f"{where}: bad @pytest.mark.{MARKER}: {exc}") from None
    if name is not None and not isinstance(name, str):
        raise pytest.UsageError(f"{where}: @pytest.mark.{MARKER} name must be a string, got {name!r}")
    _no_dotted_keys(phase_settings, where)
    for phase_name, values in phase_settings.items():
        if not isinstance(values, Mapping):
            raise pytest.UsageError(
                f"{where}: @pytest.mark.{MARKER}({phase_name}=...) takes a dict of settings, "
                f"e.g. {phase_name}={{'enabled': False}}"
            )
    checked_seed = None if seed is None else parse_seed(seed, f"{where}: marker seed")
    try:
        return specs.spec_for(name, checked_seed, phase_settings)
    except pytest.UsageError as exc:
        raise pytest.UsageError(f"{where}: {exc}") from None


def _no_dotted_keys(phase_settings: Mapping[str, Any], where: str) -> None:
    """``**{"electors.count": 5}`` is the ``--demo-set`` spelling; the marker takes a dict per
    phase: say so with the keys given, rewritten (``electors={"count": 5}``)."""
    dotted: dict[str, list[str]] = {}
    for name, value in phase_settings.items():
        phase_name, dot, key = name.partition(".")
        if dot:
            dotted.setdefault(phase_name, []).append(f'"{key}": {value!r}')
    if dotted:
        wanted = ", ".join(f"{name}={{{', '.join(items)}}}" for name, items in dotted.items())
        given = ", ".join(repr(name) for name in phase_settings if "." in name)
        raise pytest.UsageError(
            f"{where}: @pytest.mark.{MARKER} takes each phase's settings as a dict: write "
            f"{wanted} (not PHASE.KEY keywords: {given})"
        )


def spec_for_item(item: pytest.Item, specs: RunSpecs) -> ScenarioSpec:
    """The closest marker's spec, or the run's."""
    mark = item.get_closest_marker(MARKER)
    if mark is None:
        return specs.default
    return marker_spec(mark, specs, item.nodeid)


def data_used(item: pytest.Item) -> tuple[bool, bool]:
    """Whose data ``item`` gets: its own spec's (every per-test demo fixture rests on
    ``_demo_provided``), and the run's default spec's (``demo_engine``)."""
    names = set(getattr(item, "fixturenames", ()))
    return "_demo_provided" in names, "demo_engine" in names


def scenario_name(item: pytest.Item, default: str) -> str:
    """The name of the scenario the closest marker asks for, else ``default`` (the run's); for
    markers already checked (:meth:`DemoState.check_markers
    <pytest_demoseed.plugin.state.DemoState.check_markers>`), so nothing is resolved here."""
    mark = item.get_closest_marker(MARKER)
    name = None if mark is None else _arguments(*mark.args, **mark.kwargs)[0]
    return default if name is None else name


def _reset_arguments(enabled: bool = True) -> bool:
    return enabled


def resets_sequences(item: pytest.Item, default: bool) -> bool:
    """The closest ``demo_reset_sequences`` marker's choice, else ``default`` (ini
    ``demo_reset_sequences``); a bad marker is a one-line UsageError naming the test."""
    mark = item.get_closest_marker(RESET_MARKER)
    if mark is None:
        return default
    try:
        enabled = _reset_arguments(*mark.args, **mark.kwargs)
    except TypeError as exc:
        raise pytest.UsageError(f"{item.nodeid}: bad @pytest.mark.{RESET_MARKER}: {exc}") from None
    if not isinstance(enabled, bool):
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.{RESET_MARKER} takes True or False, got {enabled!r}"
        )
    return enabled
