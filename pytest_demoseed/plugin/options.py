"""What a run can tell the plugin (options, ini values, environment) and whether it told it anything.

Light: imported when pytest loads the plugin, so it uses pytest and the standard library only.
:func:`demo_input` is how the hooks decide, at configure time, that the run asks for demo data.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_SCENARIO",
    "DEFAULT_SEED",
    "ENV_VARS",
    "SCHEMA_MODES",
    "add_options",
    "demo_input",
    "ini_bool",
    "parse_seed",
]

DEFAULT_SEED = 42
DEFAULT_SCENARIO = "baseline"
#: What the report header says when no database URL is given.
DEFAULT_DATABASE = "sqlite (a file in pytest's base temp dir)"

#: The environment variables the plugin reads (option dest -> variable).
ENV_VARS = {
    "demo_seed": "DEMOSEED_SEED",
    "demo_scenario": "DEMOSEED_SCENARIO",
    "demo_db_url": "DEMOSEED_DATABASE_URL",
    "demo_alembic": "DEMOSEED_ALEMBIC",
    "demo_alembic_target": "DEMOSEED_ALEMBIC_TARGET",
    "demo_schema": "DEMOSEED_SCHEMA",
}
#: How a snapshot's schema is made (``--demo-schema``).
SCHEMA_MODES = ("create_all", "alembic", "none")

#: Every ini value the plugin reads.
INI_NAMES = (
    "demo_seed",
    "demo_scenario",
    "demo_db_url",
    "demo_set",
    "demo_reuse",
    "demo_progress",
    "demo_metadata",
    "demo_reset_sequences",
    "demo_alembic",
    "demo_alembic_target",
    "demo_schema",
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("demoseed", "pytest-demoseed: reproducible demo data")
    group.addoption(
        "--demo-seed",
        dest="demo_seed",
        metavar="INT",
        help=f"root seed of every scenario (env DEMOSEED_SEED, ini demo_seed; default {DEFAULT_SEED})",
    )
    group.addoption(
        "--demo-scenario",
        dest="demo_scenario",
        metavar="NAME",
        help="scenario for tests without a demo_scenario marker (env DEMOSEED_SCENARIO, ini "
        f"demo_scenario; default {DEFAULT_SCENARIO}); --demo-list-scenarios shows them",
    )
    group.addoption(
        "--demo-db-url",
        dest="demo_db_url",
        metavar="URL",
        help="database of the default scenario; other scenarios and xdist workers get sibling "
        "databases (env DEMOSEED_DATABASE_URL, ini demo_db_url; default: a SQLite file in "
        "pytest's base temp dir)",
    )
    group.addoption(
        "--demo-set",
        dest="demo_set",
        action="append",
        default=[],
        metavar="PHASE.KEY=VALUE",
        help="override a phase setting, e.g. attendance.rate=0.5 (repeatable; merged over ini "
        "demo_set lines, the option wins per key)",
    )
    group.addoption(
        "--demo-list-scenarios",
        action="store_true",
        default=False,
        help="list every scenario, its description and phase defaults, then exit",
    )
    group.addoption(
        "--demo-reuse",
        action="store_true",
        default=False,
        help="keep built snapshots between runs (pytest's cache dir or --demo-cache-dir) and "
        "reuse one while its key matches (ini demo_reuse)",
    )
    group.addoption(
        "--demo-rebuild",
        action="store_true",
        default=False,
        help="ignore kept snapshots and build every scenario afresh",
    )
    group.addoption(
        "--demo-cache-dir",
        dest="demo_cache_dir",
        metavar="DIR",
        help="keep snapshots in DIR between runs (implies --demo-reuse; default with --demo-reuse: "
        ".pytest_cache/d/demoseed); a server snapshot is also written there as portable files, "
        "which a run on another machine loads instead of building",
    )
    group.addoption(
        "--demo-snapshot-keys",
        dest="demo_snapshot_keys",
        metavar="FILE",
        help="write the snapshot keys the collected tests need to FILE ('-': the terminal), one "
        "'<key> <scenario>' line each, and exit without running tests: a CI cache key",
    )
    group.addoption(
        "--demo-keep",
        action="store_true",
        default=False,
        help="keep the per-worker test databases after the run (to inspect them)",
    )
    group.addoption(
        "--demo-progress",
        dest="demo_progress",
        metavar="MODE",
        help="live build progress: auto (on a terminal, for builds over a second), bar, none "
        "(ini demo_progress; default auto)",
    )
    group.addoption(
        "--demo-alembic",
        dest="demo_alembic",
        metavar="PATH",
        help="make each snapshot's schema by running these Alembic migrations (an alembic.ini, "
        "or the directory holding one) once per run, then clone it into the workers (env "
        "DEMOSEED_ALEMBIC, ini demo_alembic; needs pytest-demoseed[alembic])",
    )
    group.addoption(
        "--demo-alembic-target",
        dest="demo_alembic_target",
        metavar="REV",
        help="revision(s) to migrate to: head, heads, a revision or branch@head (env "
        "DEMOSEED_ALEMBIC_TARGET, ini demo_alembic_target; default head)",
    )
    group.addoption(
        "--demo-schema",
        dest="demo_schema",
        metavar="MODE",
        help="how a snapshot's schema is made: create_all (from the models), alembic (the "
        "--demo-alembic migrations), none (the database has it already: only checked) (env "
        "DEMOSEED_SCHEMA, ini demo_schema; default alembic when --demo-alembic is given, else "
        "create_all)",
    )
    parser.addini("demo_seed", "root seed of every scenario (default 42)", default="")
    parser.addini("demo_scenario", "default scenario (default baseline)", default="")
    parser.addini("demo_db_url", "database URL of the default scenario", default="")
    parser.addini("demo_set", "phase setting overrides, one PHASE.KEY=VALUE a line", type="linelist")
    parser.addini("demo_reuse", "keep and reuse snapshots between runs (true/false)", default="")
    parser.addini(
        "demo_reset_sequences",
        "put sequences / AUTO_INCREMENT counters back around every test (true/false; the "
        "demo_reset_sequences marker chooses per test)",
        default="",
    )
    parser.addini("demo_progress", "live build progress: auto, bar or none", default="")
    parser.addini(
        "demo_alembic", "alembic.ini (or its directory) whose migrations make the schema", default=""
    )
    parser.addini("demo_alembic_target", "revision(s) to migrate to (default head)", default="")
    parser.addini("demo_schema", "how the schema is made: create_all, alembic or none", default="")
    parser.addini(
        "demo_metadata",
        "extra schema to create in test databases, e.g. myapp.models:Base.metadata",
        default="",
    )


#: Option dest -> the value it has when not given.
_OPTION_DEFAULTS: dict[str, Any] = {
    "demo_seed": None,
    "demo_scenario": None,
    "demo_db_url": None,
    "demo_set": [],
    "demo_list_scenarios": False,
    "demo_reuse": False,
    "demo_rebuild": False,
    "demo_cache_dir": None,
    "demo_snapshot_keys": None,
    "demo_keep": False,
    "demo_progress": None,
    "demo_alembic": None,
    "demo_alembic_target": None,
    "demo_schema": None,
}


def demo_input(config: pytest.Config) -> str | None:
    """The first demo option, environment variable or ini value this run was given, or None.

    Any of them means the run asks for demo data, so the plugin validates its settings at
    configure time (bad input ends the run before any test); with none, it waits for a test
    that uses a demo fixture or the marker.
    """
    for dest, unset in _OPTION_DEFAULTS.items():
        if config.getoption(dest, unset) not in (unset, None):
            return "--" + dest.replace("_", "-")
    for variable in ENV_VARS.values():
        if os.environ.get(variable):
            return variable
    for name in INI_NAMES:
        if config.getini(name):
            return f"ini {name}"
    return None


def parse_seed(value: Any, source: str) -> int:
    """A non-negative integer seed, or a UsageError naming where the bad value came from."""
    if isinstance(value, bool):
        raise pytest.UsageError(f"{source} must be a non-negative integer, got {value!r}")
    try:
        seed = int(str(value).strip())
    except ValueError:
        raise pytest.UsageError(f"{source} must be a non-negative integer, got {value!r}") from None
    if seed < 0:
        raise pytest.UsageError(f"{source} must be a non-negative integer, got {seed}")
    return seed


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def ini_bool(config: pytest.Config, name: str) -> bool:
    """An ini flag: empty is off; anything but true/false (1/0, yes/no, on/off) is a
    UsageError naming the ini value, not silently off."""
    value = str(config.getini(name)).strip()
    if value.lower() in _TRUE:
        return True
    if not value or value.lower() in _FALSE:
        return False
    raise pytest.UsageError(f"ini {name} = {value!r}: must be true or false (also 1/0, yes/no, on/off)")
