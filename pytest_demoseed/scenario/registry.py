"""The scenario registry: ``register()``, the entry point group, and which registry is current.

A :class:`Registry` holds scenarios by name. The pytest plugin makes one per run (kept in
``config.stash``) and installs it as the *current* registry for the run's lifetime, so what a
run's conftest files and hooks register ends with the run, and an in-process inner run
(pytester) gets its own. Outside pytest (the ``demoseed`` command, ``seed()`` in a script) the
process-default registry is current. The module-level functions (``register``, ``get_scenario``,
``scenario_names``) act on the current registry.

Light on purpose: the plugin imports this module when pytest starts, so it needs only the
standard library and :mod:`~pytest_demoseed.scenario.declare`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.scenario.declare import Scenario

__all__ = [
    "ENTRY_POINT_GROUP",
    "Registry",
    "all_scenarios",
    "current_registry",
    "get_scenario",
    "install",
    "register",
    "register_all",
    "scenario_names",
    "scenarios_in",
    "unregister",
    "using",
]

ENTRY_POINT_GROUP = "pytest_demoseed.scenarios"


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


class Registry:
    """Scenarios by name, and the installed packages' ones (the entry point group), loaded once.

    Entry points are loaded on the first look-up, not when the registry is made: loading them
    imports those packages' models, which a pytest run that uses no demo data never needs.
    """

    def __init__(self) -> None:
        self._scenarios: dict[str, Scenario] = {}
        self._lock = threading.RLock()
        self._entry_points_loaded = False

    def register(self, scenario: Scenario, *, replace: bool = False) -> Scenario:
        """Make ``scenario`` available by name; a name registered again is an error unless it
        is the very same object or ``replace=True``."""
        if not isinstance(scenario, Scenario):
            raise TypeError(f"register() takes a Scenario, not {type(scenario).__name__}")
        with self._lock:
            existing = self._scenarios.get(scenario.name)
            if existing is not None and existing is not scenario and not replace:
                raise ScenarioError(
                    f"a scenario named {scenario.name!r} is already registered (pass replace=True)"
                )
            self._scenarios[scenario.name] = scenario
        return scenario

    def register_all(self, value: object, *, source: str, replace: bool = False) -> list[Scenario]:
        """Register every scenario :func:`scenarios_in` finds in ``value``; returns them."""
        found = scenarios_in(value, source=source)
        for item in found:
            self.register(item, replace=replace)
        return found

    def unregister(self, name: str) -> None:
        with self._lock:
            self._scenarios.pop(name, None)

    def load_entry_points(self) -> None:
        """Register what installed packages hand over (group ``pytest_demoseed.scenarios``), once."""
        with self._lock:
            if self._entry_points_loaded:
                return
            self._entry_points_loaded = True
            for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                try:
                    loaded = entry.load()
                except Exception as exc:  # a broken installed package: one line naming it
                    raise ScenarioError(
                        f"entry point {entry.name} = {entry.value} (group {ENTRY_POINT_GROUP}) "
                        f"cannot be loaded: {type(exc).__name__}: {exc}"
                    ) from None
                self.register_all(loaded, source=f"entry point {entry.name}")

    def get(self, name: str) -> Scenario:
        """The scenario called ``name``, or a ScenarioError that lists the known ones."""
        self.load_entry_points()
        try:
            return self._scenarios[name]
        except KeyError:
            known = ", ".join(self.names())
            raise ScenarioError(f"unknown scenario {name!r}; known scenarios: {known}") from None

    def names(self) -> list[str]:
        self.load_entry_points()
        return sorted(self._scenarios)

    def __iter__(self) -> Iterator[Scenario]:
        """Every scenario, by name."""
        return iter([self._scenarios[name] for name in self.names()])


#: The current registry is the last one; the first is the process default (never removed).
_stack: list[Registry] = [Registry()]


def current_registry() -> Registry:
    return _stack[-1]


def install(registry: Registry) -> Callable[[], None]:
    """Make ``registry`` current until the returned function is called (the plugin calls it at
    the end of the run); installs nest, and each removal restores the one before."""
    _stack.append(registry)

    def restore() -> None:
        for index in range(len(_stack) - 1, 0, -1):
            if _stack[index] is registry:
                del _stack[index]
                return

    return restore


@contextmanager
def using(registry: Registry) -> Iterator[Registry]:
    """``with using(Registry()):`` a scope whose registrations do not outlive it."""
    restore = install(registry)
    try:
        yield registry
    finally:
        restore()


def register(scenario: Scenario, *, replace: bool = False) -> Scenario:
    """Make ``scenario`` available by name to the plugin, the fixtures and the command line.

    In a ``conftest.py`` it registers for that pytest run; registering a name again is an
    error unless ``replace=True``.
    """
    return current_registry().register(scenario, replace=replace)


def register_all(value: object, *, source: str) -> list[Scenario]:
    """Register every scenario :func:`scenarios_in` finds in ``value`` (an object already
    registered under its name is left as is); returns them."""
    return current_registry().register_all(value, source=source)


def unregister(name: str) -> None:
    current_registry().unregister(name)


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``, or a ScenarioError that lists the known ones."""
    return current_registry().get(name)


def scenario_names() -> list[str]:
    return current_registry().names()


def all_scenarios() -> Iterator[Scenario]:
    return iter(current_registry())
