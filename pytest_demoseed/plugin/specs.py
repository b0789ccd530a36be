"""The specs a run's tests ask for: the run's settings and a marker's, resolved in the run's registry.

A bad value is a UsageError that names where it came from: the option, variable or ini value of
the run's scenario or of a ``demo_set`` override; a marker's own values are named by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import pytest

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.plugin.settings import DemoSettings
from pytest_demoseed.scenario.declare import Scenario
from pytest_demoseed.scenario.registry import Registry
from pytest_demoseed.scenario.spec import ScenarioSpec, resolve_spec

__all__ = ["RunSpecs"]


class RunSpecs:
    """Resolves specs for one run: its settings (as given, with their sources) and its registry."""

    def __init__(self, settings: DemoSettings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry

    @cached_property
    def default(self) -> ScenarioSpec:
        """The spec of tests without a marker."""
        return self.spec_for(None, None, {})

    def spec_for(
        self, scenario: str | None, seed: int | None, settings: Mapping[str, Mapping[str, Any]]
    ) -> ScenarioSpec:
        """The spec for a test: the run's overrides, then the marker's settings on top; the
        scenario (None: the run's) is looked up in this run's registry.

        A bad value is a UsageError naming where it came from: the run's scenario or a
        ``demo_set`` override names its option, variable or ini value; a marker's own values
        are named by the caller (the test's node id).
        """
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in self.settings.given.items()}
        for phase_name, values in settings.items():
            merged.setdefault(phase_name, {}).update(values)
        name = self.settings.scenario if scenario is None else scenario
        try:
            found = self.registry.get(name)
        except ScenarioError as exc:
            source = self.settings.sources.get("scenario") if scenario is None else None
            raise pytest.UsageError(f"{source}: {exc}" if source else str(exc)) from None
        try:
            return resolve_spec(found, self.settings.seed if seed is None else seed, merged)
        except ScenarioError as exc:
            blamed = self._blame(found, settings)
            raise pytest.UsageError(f"{blamed}: {exc}" if blamed else str(exc)) from None

    def _blame(self, scenario: Scenario, marker: Mapping[str, Mapping[str, Any]]) -> str:
        """Where the run's overrides that broke ``scenario`` came from: the first one that is
        bad on its own (unknown phase or setting, bad value), else every run source involved
        (they clash only together, e.g. a phase off that another needs); empty when the
        marker's own values fail without them, or no run override is involved."""
        involved: list[str] = []
        for phase_name, values in self.settings.given.items():
            for key, value in values.items():
                if key in marker.get(phase_name, {}):
                    continue  # the marker's value replaced it
                source = self.settings.source(f"{phase_name}.{key}", "--demo-set")
                try:
                    found = scenario.phase(phase_name)
                    found.resolve({**scenario.overrides.get(phase_name, {}), key: value})
                except ScenarioError:
                    return source
                if source not in involved:
                    involved.append(source)
        if marker:
            try:
                resolve_spec(scenario, self.settings.seed, marker)
            except ScenarioError:
                return ""
        return ", ".join(involved)
