"""Options, environment, ini and defaults resolved once into one frozen, validated settings object.

Precedence, as pytest-django orders it: command line, then environment, then ini, then default.
Every problem is a ``pytest.UsageError`` with one line that says where the bad value came from
(``--demo-...``, ``DEMOSEED_...`` or ``ini demo_...``: :attr:`DemoSettings.sources`) and what is
valid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, final

import pytest

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.plugin.options import (
    DEFAULT_SCENARIO,
    DEFAULT_SEED,
    ENV_VARS,
    ini_bool,
    parse_seed,
)
from pytest_demoseed.scenario.spec import ScenarioSpec, parse_assignment

__all__ = ["DEFAULT_SCENARIO", "DEFAULT_SEED", "DemoSettings", "merge_assignments", "parse_seed"]

PROGRESS_MODES = ("auto", "bar", "none")


def _first(config: pytest.Config, option: str, env: str, ini: str) -> tuple[Any, str] | None:
    """The value and the name of where it came from: option, then environment, then ini."""
    value = config.getoption(option, None)
    if value is not None:
        return value, "--" + option.replace("_", "-")
    if env and os.environ.get(env):
        return os.environ[env], env
    ini_value = config.getini(ini) if ini else None
    if ini_value:
        return ini_value, f"ini {ini}"
    return None


def merge_assignments(
    ini_lines: Sequence[str], option_values: Sequence[str]
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """ini ``demo_set`` lines, then ``--demo-set`` options: the option wins per key.

    Returns the merged text and, per ``phase.key``, where its value came from, so a bad value
    found later (when a scenario resolves it) can name its source.
    """
    merged: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    given = [(line, "ini demo_set") for line in ini_lines] + [(v, "--demo-set") for v in option_values]
    for line, source in given:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            phase_name, key, value = parse_assignment(line)
        except ScenarioError as exc:
            raise pytest.UsageError(f"{source}: {exc}") from None
        merged.setdefault(phase_name, {})[key] = value
        sources[f"{phase_name}.{key}"] = source
    return merged, sources


@final
@dataclass(frozen=True)
class DemoSettings:
    """Everything the plugin needs to know from the command line, env and ini, validated.

    ``given`` holds the ``demo_set`` overrides as text, as given (each scenario parses them
    with its own setting kinds). Once the run's default scenario is resolved,
    :meth:`resolved` fills ``overrides`` (the same keys, typed: ``{"electors": {"count": 80}}``)
    and ``phases`` (every setting of every phase of the default scenario, typed).
    """

    seed: int
    scenario: str
    db_url: str | None
    given: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    reuse: bool = False
    rebuild: bool = False
    keep: bool = False
    cache_dir: Path | None = None
    progress: str = "auto"
    metadata_path: str | None = None
    reset_sequences: bool = False
    #: Where each value came from: ``seed``, ``scenario``, ``db_url`` and each ``phase.key``
    #: of ``given`` -> ``--demo-...``, ``DEMOSEED_...`` or ``ini demo_...`` (absent: default).
    sources: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    phases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: pytest.Config) -> DemoSettings:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and "demoseed" in workerinput:
            return cls.from_dict(workerinput["demoseed"])
        sources: dict[str, str] = {}
        seed_source = _first(config, "demo_seed", ENV_VARS["demo_seed"], "demo_seed")
        seed = DEFAULT_SEED if seed_source is None else parse_seed(*seed_source)
        scenario_source = _first(config, "demo_scenario", ENV_VARS["demo_scenario"], "demo_scenario")
        scenario = DEFAULT_SCENARIO if scenario_source is None else str(scenario_source[0]).strip()
        url_source = _first(config, "demo_db_url", ENV_VARS["demo_db_url"], "demo_db_url")
        db_url = None if url_source is None else str(url_source[0]).strip()
        for name, found in (("seed", seed_source), ("scenario", scenario_source), ("db_url", url_source)):
            if found is not None:
                sources[name] = found[1]
        given, set_sources = merge_assignments(config.getini("demo_set"), config.getoption("demo_set") or [])
        sources.update(set_sources)
        cache_dir = config.getoption("demo_cache_dir", None)
        progress_source = _first(config, "demo_progress", "", "demo_progress")
        progress = "auto" if progress_source is None else str(progress_source[0]).strip()
        if progress not in PROGRESS_MODES:
            where = progress_source[1] if progress_source else "--demo-progress"
            raise pytest.UsageError(f"{where} must be auto, bar or none, got {progress!r}")
        return cls(
            seed=seed,
            scenario=scenario,
            db_url=db_url,
            given=given,
            reuse=bool(config.getoption("demo_reuse", False)) or ini_bool(config, "demo_reuse"),
            rebuild=bool(config.getoption("demo_rebuild", False)),
            keep=bool(config.getoption("demo_keep", False)),
            cache_dir=Path(cache_dir) if cache_dir else None,
            progress=progress,
            metadata_path=config.getini("demo_metadata") or None,
            reset_sequences=ini_bool(config, "demo_reset_sequences"),
            sources=sources,
        )

    def source(self, name: str, default: str) -> str:
        """Where ``name`` (``db_url``, ``scenario``, ``phase.key``) came from, for messages."""
        return self.sources.get(name, default)

    def resolved(self, spec: ScenarioSpec) -> DemoSettings:
        """These settings with ``overrides`` and ``phases`` typed, as ``spec`` (the run's
        default spec, built from ``given``) resolved them."""
        phases = spec.as_dict()
        overrides = {
            phase_name: {key: phases[phase_name][key] for key in values}
            for phase_name, values in self.given.items()
        }
        return replace(self, overrides=overrides, phases=phases)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for an xdist worker's ``workerinput`` (execnet sends no Path or date):
        the worker types ``overrides`` and ``phases`` again from ``given``."""
        values = {**asdict(self), "cache_dir": str(self.cache_dir) if self.cache_dir else None}
        del values["overrides"], values["phases"]
        return values

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DemoSettings:
        values = dict(data)
        values["cache_dir"] = Path(values["cache_dir"]) if values.get("cache_dir") else None
        return cls(**values)
