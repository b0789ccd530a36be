"""The scenario registry: built-in scenarios, ``register()``, and the entry point group."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import TypeVar

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.scenario.declare import Scenario

__all__ = [
    "ENTRY_POINT_GROUP",
    "all_scenarios",
    "get_scenario",
    "register",
    "register_all",
    "scenario_names",
    "scenarios_in",
]

ENTRY_POINT_GROUP = "pytest_demoseed.scenarios"

_scenarios: dict[str, Scenario] = {}
_lock = threading.Lock()
_loaded = False

T = TypeVar("T", Scenario, Callable[[], Scenario])


def _origin(scenario: Scenario) -> tuple[object, ...]:
    """Where a scenario's phases are defined, and its settings: equal for the same code imported
    again, different for another scenario that happens to share the name."""
    phases = tuple(
        (p.name, getattr(p.generate, "__module__", ""), getattr(p.generate, "__qualname__", ""))
        for p in scenario.phases
    )
    overrides = sorted((k, sorted(v.items(), key=repr)) for k, v in scenario.overrides.items())
    return (phases, repr(overrides), scenario.description, tuple(sorted(scenario.metadata.tables)))


def register(scenario: Scenario, *, replace: bool = False) -> Scenario:
    """Make ``scenario`` available by name to the plugin, the fixtures and the command line.

    Registering a name again is an error unless ``replace=True``, or unless it is the same
    definition imported again (a ``conftest.py`` re-imported by an in-process pytest run).
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"register() takes a Scenario, not {type(scenario).__name__}")
    with _lock:
        existing = _scenarios.get(scenario.name)
        same_code = existing is not None and _origin(existing) == _origin(scenario)
        if existing is not None and existing is not scenario and not (replace or same_code):
            raise ScenarioError(
                f"a scenario named {scenario.name!r} is already registered (pass replace=True)"
            )
        _scenarios[scenario.name] = scenario
    return scenario


def unregister(name: str) -> None:
    with _lock:
        _scenarios.pop(name, None)


def _load_entry_points() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True

    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken installed package: one line naming it, not a traceback
            raise ScenarioError(
                f"entry point {entry.name} = {entry.value} (group {ENTRY_POINT_GROUP}) cannot be "
                f"loaded: {type(exc).__name__}: {exc}"
            ) from None
        register_all(loaded, source=f"entry point {entry.name}")


def scenarios_in(value: object, *, source: str) -> list[Scenario]:
    """A Scenario, an iterable of them, or a callable returning either, as a list.

    What an entry point, ``demoseed --scenarios module:NAME`` or the hook may hand over.
    """
    if callable(value) and not isinstance(value, (Scenario, type)):
        value = value()
    if value is None:
        return []
    if isinstance(value, Scenario):
        return [value]
    if isinstance(value, (str, bytes, type)) or not isinstance(value, Iterable):
        raise ScenarioError(f"{source} gave {_describe(value)}, not a Scenario or a list of them")
    found = list(value)
    wrong = [item for item in found if not isinstance(item, Scenario)]
    if wrong:
        raise ScenarioError(f"{source} gave {_describe(wrong[0])} among its scenarios")
    return found


def _describe(value: object) -> str:
    return f"class {value.__name__}" if isinstance(value, type) else f"a {type(value).__name__}"


def register_all(value: object, *, source: str) -> list[Scenario]:
    """Register every scenario :func:`scenarios_in` finds in ``value``; returns them."""
    found = scenarios_in(value, source=source)
    for item in found:
        if _scenarios.get(item.name) is not item:
            register(item)
    return found


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``, or a ScenarioError that lists the known ones."""
    _load_entry_points()
    try:
        return _scenarios[name]
    except KeyError:
        known = ", ".join(scenario_names())
        raise ScenarioError(f"unknown scenario {name!r}; known scenarios: {known}") from None


def scenario_names() -> list[str]:
    _load_entry_points()
    return sorted(_scenarios)


def all_scenarios() -> Iterator[Scenario]:
    for name in scenario_names():
        yield _scenarios[name]
