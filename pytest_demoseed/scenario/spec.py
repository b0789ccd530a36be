"""ScenarioSpec: a scenario, its fully resolved phase settings and the root seed, with a stable key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pytest_demoseed.errors import ScenarioError, SeedRefused
from pytest_demoseed.generate.determinism import canonical_json
from pytest_demoseed.scenario.declare import Phase, Scenario
from pytest_demoseed.scenario.registry import get_scenario

__all__ = ["ScenarioSpec", "check_reused_phases", "parse_assignment", "reused_phases", "resolve_spec"]

Overrides = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, eq=False)
class ScenarioSpec:
    """What a build makes: equal specs make equal data, so the key names a snapshot."""

    scenario: Scenario = field(repr=False)
    seed: int
    settings: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]

    def __eq__(self, other: object) -> bool:
        """Specs that make the same data are equal: same scenario name, seed and settings."""
        if not isinstance(other, ScenarioSpec):
            return NotImplemented
        return (self.scenario_name, self.seed, self.settings) == (
            other.scenario_name,
            other.seed,
            other.settings,
        )

    def __hash__(self) -> int:
        return int(self.key[:16], 16)

    @property
    def scenario_name(self) -> str:
        return self.scenario.name

    def phase_settings(self, phase_name: str) -> dict[str, Any]:
        for name, values in self.settings:
            if name == phase_name:
                return dict(values)
        raise ScenarioError(f"unknown phase {phase_name!r}")

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: dict(values) for name, values in self.settings}

    def enabled(self, phase_name: str) -> bool:
        return bool(self.phase_settings(phase_name).get("enabled", True))

    @cached_property
    def key(self) -> str:
        """A short stable hash of the spec (the scenario name, the seed, every setting)."""
        text = canonical_json([self.scenario_name, self.seed, self.as_dict()])
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    @property
    def short_key(self) -> str:
        return self.key[:10]

    def phase_lineage(self, phase_name: str) -> list[Any]:
        """This phase's settings and those of every phase it depends on, transitively.

        A phase's random stream is keyed by this, not by the scenario's name, so scenarios that
        agree on a phase and its ancestors make the same rows for it.
        """
        scenario = self.scenario
        seen: dict[str, dict[str, Any]] = {}
        pending = [phase_name]
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            values = self.phase_settings(name)
            seen[name] = values
            if values.get("enabled", True):
                pending.extend(scenario.phase(name).required_phases(values))
        return [[name, seen[name]] for name in sorted(seen)]


def parse_assignment(text: str) -> tuple[str, str, str]:
    """``phase.key=value`` -> (phase, key, value); ScenarioError in one line otherwise."""
    target, sep, value = text.partition("=")
    phase_name, dot, key = target.strip().partition(".")
    if not sep or not dot or not phase_name or not key:
        raise ScenarioError(f"bad setting {text!r}: expected PHASE.KEY=VALUE, e.g. attendance.rate=0.5")
    return phase_name.strip(), key.strip(), value.strip()


def resolve_spec(
    scenario: Scenario | str,
    seed: int,
    overrides: Overrides | None = None,
    *,
    fresh_database: bool = True,
) -> ScenarioSpec:
    """Validate the scenario, every override and the phase dependencies, and freeze them.

    ``scenario`` is used as given; a name is looked up in the current registry (the run's,
    inside pytest).

    With ``fresh_database`` (the fixtures' databases always are) :func:`check_reused_phases`
    runs here, against a database that holds no rows; otherwise the caller runs it once it
    has connected (``seed()`` does, inside the build's transaction).
    """
    if isinstance(scenario, str):
        scenario = get_scenario(scenario)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioError(f"seed must be a non-negative integer, not {seed!r}")
    user = {name: dict(values) for name, values in (overrides or {}).items()}
    for name in user:
        scenario.phase(name)
    resolved: list[tuple[str, tuple[tuple[str, Any], ...]]] = []
    by_name: dict[str, dict[str, Any]] = {}
    for item in scenario.phases:
        values = {**scenario.overrides.get(item.name, {}), **user.get(item.name, {})}
        settled = item.resolve(values)
        by_name[item.name] = settled
        resolved.append((item.name, tuple(settled.items())))
    order = [p.name for p in scenario.phases]
    for item in scenario.phases:
        settled = by_name[item.name]
        if not settled.get("enabled", True):
            continue
        for needed in item.required_phases(settled):
            if needed not in by_name:
                raise ScenarioError(f"phase {item.name!r} requires unknown phase {needed!r}")
            if order.index(needed) > order.index(item.name):
                raise ScenarioError(f"phase {item.name!r} must come after {needed!r}")
    for item in scenario.phases:
        if item.check is not None:
            item.check(by_name)
    spec = ScenarioSpec(scenario, seed, tuple(resolved))
    if fresh_database:
        check_reused_phases(spec, lambda _phase: False)
    return spec


def reused_phases(spec: ScenarioSpec) -> list[tuple[Phase, Phase]]:
    """``(phase, needed)`` pairs: an enabled phase that reads the rows of a disabled one."""
    scenario = spec.scenario
    pairs: list[tuple[Phase, Phase]] = []
    for item in scenario.phases:
        if not spec.enabled(item.name):
            continue
        for needed in item.required_phases(spec.phase_settings(item.name)):
            if not spec.enabled(needed):
                pairs.append((item, scenario.phase(needed)))
    return pairs


def check_reused_phases(spec: ScenarioSpec, has_rows: Callable[[Phase], bool]) -> None:
    """The one rule for a disabled phase, for the fixtures, ``seed()`` and the command alike.

    A phase that is off makes no rows, so an enabled phase that needs them reuses the rows
    already in the database; when there are none (``has_rows(phase)`` is false: none of the
    tables it writes holds a row, as in any fresh database) the spec is a usage error naming
    both phases, rather than a build that quietly makes nothing for the phases after it.
    """
    for item, needed in reused_phases(spec):
        if not has_rows(needed):
            raise SeedRefused(
                f"phase {item.name!r} needs rows from phase {needed.name!r}, which is disabled, "
                f"and the database holds none (a fresh database never does); "
                f"enable {needed.name} or disable {item.name}"
            )
