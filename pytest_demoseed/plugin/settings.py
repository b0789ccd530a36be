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
    SCHEMA_MODES,
    ini_bool,
    parse_seed,
)
from pytest_demoseed.scenario.spec import ScenarioSpec, parse_assignment
from pytest_demoseed.storage.drivers import sync_form

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


def _schema_settings(config: pytest.Config, sources: dict[str, str]) -> tuple[str, str | None, str]:
    """``--demo-schema``, ``--demo-alembic`` and ``--demo-alembic-target`` (or their env/ini).

    The path is made absolute here, where its source is known: an option or variable is
    relative to the directory pytest was started in, an ini value to the ini file's. Whether it
    holds an alembic.ini is checked once the run activates (with the migrations' other checks).
    """
    alembic_source = _first(config, "demo_alembic", ENV_VARS["demo_alembic"], "demo_alembic")
    alembic = None
    if alembic_source is not None:
        value, where = str(alembic_source[0]).strip(), alembic_source[1]
        base = config.invocation_params.dir
        if where.startswith("ini") and config.inipath is not None:
            base = config.inipath.parent
        alembic = str((Path(base) / Path(value).expanduser()).resolve()) if value else None
        sources["alembic"] = where
    target_source = _first(
        config, "demo_alembic_target", ENV_VARS["demo_alembic_target"], "demo_alembic_target"
    )
    target = "head"
    if target_source is not None:
        target = str(target_source[0]).strip() or "head"
        sources["alembic_target"] = target_source[1]
    if target_source is not None and alembic is None:
        raise pytest.UsageError(
            f"{target_source[1]} needs the migrations: --demo-alembic=PATH (env DEMOSEED_ALEMBIC, "
            "ini demo_alembic), an alembic.ini or its directory"
        )
    schema_source = _first(config, "demo_schema", ENV_VARS["demo_schema"], "demo_schema")
    if schema_source is None:
        return ("alembic" if alembic else "create_all"), alembic, target
    schema, where = str(schema_source[0]).strip().lower().replace("-", "_"), schema_source[1]
    sources["schema"] = where
    if schema not in SCHEMA_MODES:
        raise pytest.UsageError(f"{where} must be create_all, alembic or none, got {schema_source[0]!r}")
    if schema == "alembic" and alembic is None:
        raise pytest.UsageError(
            f"{where}=alembic needs the migrations: --demo-alembic=PATH (env DEMOSEED_ALEMBIC, "
            "ini demo_alembic), an alembic.ini or its directory"
        )
    return schema, alembic, target


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
    #: How snapshots get their schema (:data:`~pytest_demoseed.plugin.options.SCHEMA_MODES`).
    schema: str = "create_all"
    #: ``--demo-alembic``: the alembic.ini (or its directory), absolute; None when not given.
    alembic: str | None = None
    alembic_target: str = "head"
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
        db_url = None if url_source is None else sync_form(str(url_source[0]).strip())
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
        schema, alembic, alembic_target = _schema_settings(config, sources)
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
            schema=schema,
            alembic=alembic,
            alembic_target=alembic_target,
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
