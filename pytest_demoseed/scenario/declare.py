"""Scenarios and phases: the declarations a build runs, and how their settings resolve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_demoseed.errors import ScenarioError, SettingError
from pytest_demoseed.scenario.settings_kinds import Setting, boolean

if TYPE_CHECKING:
    # Annotations only: declaring a scenario needs no SQLAlchemy at run time, so the registry
    # (imported when pytest loads the plugin) stays light.
    import sqlalchemy as sa

    from pytest_demoseed.scenario.context import PhaseContext

__all__ = ["Batch", "Phase", "Scenario", "ScenarioError", "phase"]


@dataclass(frozen=True)
class Batch:
    """Rows for one table, as tuples in ``columns`` order, primary keys included."""

    table: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]
    #: The same values a column at a time, when the batch was made that way
    #: (:meth:`from_columns`): the builder binds and fingerprints columns, so it saves
    #: transposing the rows back.
    by_column: Sequence[Sequence[Any]] | None = field(default=None, init=False, compare=False, repr=False)

    @classmethod
    def from_columns(cls, table: str, columns: tuple[str, ...], by_column: Sequence[Sequence[Any]]) -> Batch:
        """A batch of the rows that ``by_column`` (one sequence per column, equal lengths) makes."""
        lengths = sorted({len(values) for values in by_column})
        if len(by_column) != len(columns) or len(lengths) > 1:
            raise ScenarioError(
                f"a batch for {table!r} needs one sequence per column ({len(columns)}), all of one length; "
                f"got {len(by_column)} of lengths {', '.join(map(str, lengths))}"
            )
        made = cls(table, columns, list(zip(*by_column, strict=True)))
        object.__setattr__(made, "by_column", by_column)
        return made


Generate = Callable[["PhaseContext"], Iterable[Batch]]
LoadExisting = Callable[["PhaseContext"], None]
Requires = Sequence[str] | Callable[[Mapping[str, Any]], Sequence[str]]
Check = Callable[[Mapping[str, Mapping[str, Any]]], None]


@dataclass(frozen=True)
class Phase:
    """One step of a scenario: writes rows of ``tables`` from a seeded stream.

    ``requires`` names the phases whose rows this one reads (or a function of this phase's
    settings returning them). When a required phase is off, its ``load_existing`` publishes
    the rows already in the database instead.
    """

    name: str
    generate: Generate
    tables: tuple[str, ...] = ()
    settings: Mapping[str, Setting] = field(default_factory=dict)
    requires: Requires = ()
    load_existing: LoadExisting | None = None
    description: str = ""
    optional: bool = True
    check: Check | None = None

    def all_settings(self) -> dict[str, Setting]:
        found = dict(self.settings)
        if self.optional and "enabled" not in found:
            found = {"enabled": boolean(True, "run this phase"), **found}
        return found

    def required_phases(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        needs = self.requires(settings) if callable(self.requires) else self.requires
        return tuple(needs)

    def resolve(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``values``, each validated; unknown keys are an error."""
        known = self.all_settings()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ScenarioError(
                f"unknown setting {self.name}.{unknown[0]}; valid: "
                + ", ".join(f"{self.name}.{key}" for key in known)
            )
        resolved: dict[str, Any] = {}
        for key, setting in known.items():
            raw = values.get(key, setting.default)
            try:
                resolved[key] = setting.resolve(raw)
            except SettingError as exc:
                raise ScenarioError(f"bad value for {self.name}.{key}: {exc}") from None
        return resolved


def phase(
    name: str,
    *,
    tables: Sequence[str] = (),
    settings: Mapping[str, Setting] | None = None,
    requires: Requires = (),
    load_existing: LoadExisting | None = None,
    description: str = "",
    optional: bool = True,
    check: Check | None = None,
) -> Callable[[Generate], Phase]:
    """Decorator: turn a generator of batches into a :class:`Phase`."""

    def wrap(generate: Generate) -> Phase:
        return Phase(
            name=name,
            generate=generate,
            tables=tuple(tables),
            settings=dict(settings or {}),
            requires=requires,
            load_existing=load_existing,
            description=description or (generate.__doc__ or "").strip().split("\n")[0],
            optional=optional,
            check=check,
        )

    return wrap


@dataclass(frozen=True)
class Scenario:
    """A named recipe: phases in dependency order, per-phase overrides, a schema and a clock.

    ``clock`` is the scenario's fixed "now": every date a phase makes is computed from it.
    ``root_model`` is the ORM class of the scenario's main object (``Election``), which the
    ``demo_root`` fixture loads; ``root_key`` the shared value naming its primary key.
    """

    name: str
    phases: tuple[Phase, ...]
    metadata: sa.MetaData
    description: str = ""
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    clock: dt.datetime = dt.datetime(2026, 3, 1, 0, 0, 0)
    locale: str = "en_US"
    root_model: type | None = None
    root_key: str | None = None

    def __post_init__(self) -> None:
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ScenarioError(f"scenario {self.name!r} repeats a phase name")
        for phase_name in self.overrides:
            if phase_name not in names:
                raise ScenarioError(f"scenario {self.name!r} overrides unknown phase {phase_name!r}")

    def phase(self, name: str) -> Phase:
        for candidate in self.phases:
            if candidate.name == name:
                return candidate
        raise ScenarioError(
            f"unknown phase {name!r} in scenario {self.name!r}; valid: "
            + ", ".join(p.name for p in self.phases)
        )

    def defaults(self) -> dict[str, dict[str, Any]]:
        """Every phase's resolved settings before any user override."""
        return {p.name: p.resolve(self.overrides.get(p.name, {})) for p in self.phases}

    def derive(self, name: str, description: str = "", **overrides: Mapping[str, Any]) -> Scenario:
        """A new scenario like this one, with some phase settings changed."""
        merged = {key: dict(value) for key, value in self.overrides.items()}
        for phase_name, values in overrides.items():
            merged.setdefault(phase_name, {}).update(values)
        return Scenario(
            name=name,
            phases=self.phases,
            metadata=self.metadata,
            description=description or self.description,
            overrides=merged,
            clock=self.clock,
            locale=self.locale,
            root_model=self.root_model,
            root_key=self.root_key,
        )
