"""Options, environment, ini and defaults resolved once into one frozen, validated settings object.

Precedence, as pytest-django orders it: command line, then environment, then ini, then default.
Every problem is a ``pytest.UsageError`` with one line that says what was wrong and what is valid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, final

import pytest

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.plugin.options import DEFAULT_SCENARIO, DEFAULT_SEED, ENV_VARS, parse_seed
from pytest_demoseed.scenario.spec import parse_assignment

__all__ = ["DEFAULT_SCENARIO", "DEFAULT_SEED", "DemoSettings", "merge_assignments", "parse_seed"]


def _first(config: pytest.Config, option: str, env: str, ini: str) -> tuple[Any, str] | None:
    value = config.getoption(option, None)
    if value is not None:
        return value, "--" + option.replace("_", "-")
    if os.environ.get(env):
        return os.environ[env], env
    ini_value = config.getini(ini) if ini else None
    if ini_value:
        return ini_value, f"ini {ini}"
    return None


def merge_assignments(ini_lines: Sequence[str], option_values: Sequence[str]) -> dict[str, dict[str, str]]:
    """ini ``demo_set`` lines, then ``--demo-set`` options: the option wins per key."""
    merged: dict[str, dict[str, str]] = {}
    for line in [*ini_lines, *option_values]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            phase_name, key, value = parse_assignment(line)
        except ScenarioError as exc:
            raise pytest.UsageError(str(exc)) from None
        merged.setdefault(phase_name, {})[key] = value
    return merged


@final
@dataclass(frozen=True)
class DemoSettings:
    """Everything the plugin needs to know from the command line, env and ini, validated."""

    seed: int
    scenario: str
    db_url: str | None
    overrides: Mapping[str, Mapping[str, Any]]
    reuse: bool = False
    rebuild: bool = False
    keep: bool = False
    cache_dir: Path | None = None
    progress: str = "auto"
    metadata_path: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> DemoSettings:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and "demoseed" in workerinput:
            return cls.from_dict(workerinput["demoseed"])
        seed_source = _first(config, "demo_seed", ENV_VARS["demo_seed"], "demo_seed")
        seed = DEFAULT_SEED if seed_source is None else parse_seed(*seed_source)
        scenario_source = _first(config, "demo_scenario", ENV_VARS["demo_scenario"], "demo_scenario")
        scenario = DEFAULT_SCENARIO if scenario_source is None else str(scenario_source[0]).strip()
        url_source = _first(config, "demo_db_url", ENV_VARS["demo_db_url"], "demo_db_url")
        db_url = None if url_source is None else str(url_source[0]).strip()
        overrides = merge_assignments(config.getini("demo_set"), config.getoption("demo_set") or [])
        cache_dir = config.getoption("demo_cache_dir", None)
        progress = config.getoption("demo_progress", None) or config.getini("demo_progress") or "auto"
        if progress not in ("auto", "bar", "none"):
            raise pytest.UsageError(f"--demo-progress must be auto, bar or none, got {progress!r}")
        return cls(
            seed=seed,
            scenario=scenario,
            db_url=db_url,
            overrides=overrides,
            reuse=bool(config.getoption("demo_reuse", False)) or _ini_bool(config, "demo_reuse"),
            rebuild=bool(config.getoption("demo_rebuild", False)),
            keep=bool(config.getoption("demo_keep", False)),
            cache_dir=Path(cache_dir) if cache_dir else None,
            progress=progress,
            metadata_path=config.getini("demo_metadata") or None,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for an xdist worker's ``workerinput`` (execnet sends no Path)."""
        return {**asdict(self), "cache_dir": str(self.cache_dir) if self.cache_dir else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DemoSettings:
        values = dict(data)
        values["cache_dir"] = Path(values["cache_dir"]) if values.get("cache_dir") else None
        return cls(**values)


def _ini_bool(config: pytest.Config, name: str) -> bool:
    value = config.getini(name)
    return str(value).strip().lower() in {"1", "true", "yes", "on"}
