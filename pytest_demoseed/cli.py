"""The ``demoseed`` command: list scenarios; seed, clear or fingerprint a database outside tests;
print snapshot keys for CI caches and list or prune kept snapshots.

Built on click and rich rather than argparse and hand-drawn bars. click gives subcommands,
options read from environment variables (``DEMOSEED_DATABASE_URL``), typed and range-checked
values, and generated help, and it is already how pytest-adjacent tools (pip-tools, Flask, black)
shape a CLI. rich draws live per-phase bars that degrade to a plain final table when output is not
a terminal. Both are mature, typed and widely installed; neither pulls in much else.

Every user error is one line on stderr, ``demoseed: error: ...``, exit 2 for bad input (checked
before any connection is opened, or, for what depends on the database's rows, right after:
seeding again without ``--clear``/``--append``, a disabled phase with no rows to reuse) and 1
for a database that cannot be used; nothing is written then. Internal bugs keep their traceback.
"""

from __future__ import annotations

import json
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import sqlalchemy as sa

from pytest_demoseed import __version__
from pytest_demoseed.api import Report, clear, database_fingerprint, resolve, seed
from pytest_demoseed.errors import (
    BuildCancelled,
    DatabaseUrlError,
    MigrationError,
    ScenarioError,
    SchemaMismatch,
    SeedRefused,
    first_line,
)
from pytest_demoseed.report.command import MODES, choose
from pytest_demoseed.report.summary import describe_counts, describe_fallbacks, describe_migrated
from pytest_demoseed.scenario.declare import Scenario
from pytest_demoseed.scenario.registry import all_scenarios, get_scenario, register_all, scenario_names
from pytest_demoseed.storage.backends import backend_for
from pytest_demoseed.storage.backends.server import ServerError
from pytest_demoseed.storage.housekeeping import KeptSnapshot, list_snapshots, prune_snapshots
from pytest_demoseed.storage.migrations import load_migrations
from pytest_demoseed.storage.schema import load_metadata
from pytest_demoseed.storage.snapshot_key import schema_source, snapshot_key
from pytest_demoseed.storage.urls import parse_url

__all__ = ["cli", "main"]

ENV_URL = "DEMOSEED_DATABASE_URL"
ENV_SCENARIOS = "DEMOSEED_SCENARIOS"
EXIT_RUNTIME = 1
EXIT_INTERRUPTED = 130
_F = TypeVar("_F", bound=Callable[..., Any])


class RuntimeFailure(click.ClickException):
    """The input was fine but the database could not be used (exit 1)."""

    exit_code = EXIT_RUNTIME


class Interrupted(RuntimeFailure):
    """Ctrl-C during a build: it was rolled back (exit 130, as shells report SIGINT)."""

    exit_code = EXIT_INTERRUPTED


def _usage(message: str) -> NoReturn:
    raise click.UsageError(message)


def _runtime(message: str) -> NoReturn:
    raise RuntimeFailure(message)


def _db_url(value: str | None) -> str:
    """The URL given, checked in every part before anything connects (bad: exit 2, one line)."""
    if not value:
        _usage(f"missing --db-url (or set {ENV_URL})")
    try:
        parse_url(value)
    except DatabaseUrlError as exc:
        _usage(str(exc))
    return value


def _scenario(name: str) -> Scenario:
    try:
        return get_scenario(name)
    except ScenarioError as exc:
        _usage(str(exc))


def _run(action: Any, *args: Any, usage: tuple[type[Exception], ...] = (), **kwargs: Any) -> Any:
    """Call the API and turn the errors a user can cause into one line and an exit code
    (``usage``: more error types that mean the command line must change, exit 2)."""
    usage_errors: tuple[type[Exception], ...] = (DatabaseUrlError, SeedRefused, MigrationError, *usage)
    try:
        return action(*args, **kwargs)
    except usage_errors as exc:  # the command line must change: a usage error
        _usage(str(exc))
    except ScenarioError as exc:
        _runtime(str(exc))
    except BuildCancelled:
        _runtime("cancelled; nothing was written")
    except KeyboardInterrupt:
        raise Interrupted("interrupted; nothing was written") from None
    except sa.exc.SQLAlchemyError as exc:
        _runtime(f"database error ({type(exc).__name__}): {first_line(exc)}; nothing was written")


# --- commands -------------------------------------------------------------------------------------

db_url_option = click.option(
    "--db-url",
    envvar=ENV_URL,
    metavar="URL",
    help=f"SQLAlchemy database URL, e.g. sqlite:///demo.db (default: ${ENV_URL}).",
)
scenario_option = click.option(
    "--scenario", required=True, metavar="NAME", help="Scenario name (see `demoseed list`)."
)


def _import_scenarios(spec: str) -> None:
    """``module`` or ``module:NAME``: import it (from the current directory or ``sys.path``) and
    register NAME, or every Scenario the module defines at top level."""
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        _usage(f"--scenarios {spec!r}: expected MODULE or MODULE:NAME, e.g. myapp.scenarios")
    scenario_names()  # built-ins and entry points first, so a clash names the user's scenario
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: a project's own package is found
    try:
        # ``module:attr`` resolved as entry points are; with no ``:`` it is the module itself.
        target: Any = pkgutil.resolve_name(f"{module_name}:{attribute}")
    except Exception as exc:  # the user's module failed to import: one line, not its traceback
        _usage(f"--scenarios {spec}: cannot import it ({type(exc).__name__}: {first_line(exc)})")
    if attribute:
        found = register_all(target, source=f"--scenarios {spec}")
    else:
        found = register_all(
            [v for v in vars(target).values() if isinstance(v, Scenario)], source=f"--scenarios {spec}"
        )
    if not found and not attribute:
        _usage(f"--scenarios {spec}: the module defines no Scenario (name one: MODULE:NAME)")


def _load_scenarios(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    for spec in value:
        try:
            _import_scenarios(spec)
        except ScenarioError as exc:  # a name clash with a registered scenario, a wrong object
            _usage(str(exc))
    return value


_SCENARIOS_HELP = (
    "Import your own scenarios from a module (every Scenario it defines, or NAME); repeatable "
    f"(default: ${ENV_SCENARIOS}, space-separated). Installed packages' entry points are always read."
)


def scenarios_option(*, envvar: str | None) -> Callable[[_F], _F]:
    """``--scenarios``, accepted before the subcommand and after it, as users type it.

    The group's copy also reads ``$DEMOSEED_SCENARIOS``; a subcommand's copy does not, so the
    variable is imported once. The same module given on both sides registers the same objects,
    which the registry allows.
    """
    return click.option(
        "--scenarios",
        "scenario_modules",
        multiple=True,
        envvar=envvar,
        metavar="MODULE[:NAME]",
        callback=_load_scenarios,
        expose_value=False,
        help=_SCENARIOS_HELP,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="demoseed")
@scenarios_option(envvar=ENV_SCENARIOS)
def cli() -> None:
    """Seed databases with pytest-demoseed scenarios: the same data your tests see."""


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(f"{item:g}" if isinstance(item, float) else str(item) for item in value)
    return str(value)


@cli.command("list")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@scenarios_option(envvar=None)
def list_command(names: tuple[str, ...]) -> None:
    """List scenarios with their phases' settings and defaults (with NAMEs: also each setting's help)."""
    chosen = [_scenario(name) for name in names] if names else list(all_scenarios())
    for scenario in chosen:
        click.echo(f"{scenario.name}: {scenario.description}")
        defaults = scenario.defaults()
        for item in scenario.phases:
            values = defaults[item.name]
            if not names:
                shown = " ".join(f"{key}={_format_value(value)}" for key, value in values.items())
                click.echo(f"  {item.name}: {shown}")
                continue
            click.echo(f"  {item.name}: {item.description}")
            for key, setting in item.all_settings().items():
                kind = f" ({setting.kind})" if setting.kind else ""
                click.echo(f"    {item.name}.{key}={_format_value(values[key])}{kind}  {setting.help}")
        if names:
            click.echo("")


def _check_seed(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value < 0:
        raise click.BadParameter(f"{value} is negative; a seed is an integer >= 0")
    return value


def _summary(report: Report) -> str:
    lines = [
        f"seeded {report.scenario} seed={report.seed} into {report.database}"
        + (" (cleared first)" if report.cleared else ""),
        f"  {report.total_rows:,} rows in {report.seconds:.3f}s "
        f"({report.rows_per_second:,.0f} rows/s): {describe_counts(report.counts)}",
        "  phases: " + ", ".join(f"{name} {secs:.3f}s" for name, secs in report.phase_seconds.items()),
    ]
    if report.fallbacks:  # the slow path, named as the pytest summary names it
        lines.append("  " + describe_fallbacks(report.fallbacks))
    if report.migrated:
        before = ",".join(report.migrated.get("from", ())) or "base"
        revisions = {"revisions": report.migrated.get("to", ()), "counts": report.migrated.get("counts", {})}
        lines.append(f"  {describe_migrated(revisions)} (was at {before})")
    lines.append(f"  fingerprint {report.fingerprint}")
    return "\n".join(lines)


@cli.command("seed")
@db_url_option
@scenarios_option(envvar=None)
@click.option(
    "--scenario",
    default="baseline",
    show_default=True,
    metavar="NAME",
    help="Scenario name (see `demoseed list`).",
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=42,
    show_default=True,
    callback=_check_seed,
    help="Root seed (>= 0): the same seed makes the same data.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="PHASE.KEY=VALUE",
    help="Override a phase setting; repeatable (e.g. --set attendance.rate=0.5).",
)
@click.option("--create-schema", is_flag=True, help="Create missing tables (in the same transaction).")
@click.option(
    "--create-database",
    is_flag=True,
    help="Create the database if it does not exist (dropped again if the seed fails).",
)
@click.option(
    "--clear",
    "clear_first",
    is_flag=True,
    help="Delete the rows earlier seeds of the scenario wrote first (in the same transaction).",
)
@click.option(
    "--append",
    is_flag=True,
    help="Add another copy when the database already holds the scenario's rows (else refused).",
)
@click.option(
    "--migrate",
    "migrate",
    is_flag=False,
    flag_value=".",
    default=None,
    metavar="[PATH]",
    help="Run the Alembic migrations first (an alembic.ini or its directory; alone: ./alembic.ini); "
    "needs pytest-demoseed[alembic]. On PostgreSQL and SQLite inside the seed's transaction (a failed "
    "seed undoes them); on MariaDB/MySQL, which have no transactional DDL, committed before it.",
)
@click.option(
    "--migrate-target",
    default="head",
    show_default=True,
    metavar="REV",
    help="Revision(s) --migrate goes to: head, heads, a revision or branch@head.",
)
@click.option(
    "--progress",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="auto: bars on a terminal, JSON lines otherwise.",
)
def seed_command(
    db_url: str | None,
    scenario: str,
    seed_value: int,
    assignments: tuple[str, ...],
    create_schema: bool,
    create_database: bool,
    clear_first: bool,
    append: bool,
    migrate: str | None,
    migrate_target: str,
    progress: str,
) -> None:
    """Build a scenario into a database in one transaction; on any error nothing is written
    (with --migrate on MariaDB/MySQL: the migrations stay, as their DDL commits by itself)."""
    url = _db_url(db_url)
    if clear_first and append:
        _usage("--clear and --append exclude each other: --clear replaces the rows, --append adds")
    if migrate is not None:
        if create_schema:
            _usage("--create-schema and --migrate exclude each other: the migrations make the schema")
        try:  # no alembic.ini, Alembic missing, an unknown or ambiguous target: before connecting
            load_migrations(migrate, migrate_target)
        except MigrationError as exc:
            _usage(f"--migrate {migrate}: {exc}")
    try:  # the disabled-phase rule needs the database's rows: seed() applies it once connected
        resolve(scenario, seed=seed_value, settings=list(assignments))
    except ScenarioError as exc:
        _usage(str(exc))
    out = sys.stdout
    with choose(progress, out) as reporter:
        report: Report = _run(
            seed,
            url,
            scenario,
            seed=seed_value,
            settings=list(assignments),
            on_progress=reporter,
            create_schema=create_schema,
            clear=clear_first,
            create_database=create_database,
            append=append,
            migrate=migrate,
            migrate_target=migrate_target,
            usage=(SchemaMismatch,) if migrate is not None else (),
        )
    if progress == "json" or (progress == "auto" and not out.isatty()):
        click.echo(json.dumps({"report": report.as_dict()}, default=str, separators=(",", ":")))
    else:
        click.echo(_summary(report))


@cli.command("clear")
@db_url_option
@scenario_option
@scenarios_option(envvar=None)
def clear_command(db_url: str | None, scenario: str) -> None:
    """Delete the rows seeding wrote for the scenario, children first, in one transaction."""
    url = _db_url(db_url)
    _scenario(scenario)
    deleted: dict[str, int] = _run(clear, url, scenario)
    total = sum(count for count in deleted.values() if count > 0)
    shown = describe_counts(deleted) if total else "none (no seed of it is recorded in this database)"
    click.echo(f"cleared {total:,} rows of scenario {scenario}: {shown}")


@cli.command("fingerprint")
@db_url_option
@scenario_option
@scenarios_option(envvar=None)
def fingerprint_command(db_url: str | None, scenario: str) -> None:
    """Print the fingerprint of the scenario's tables: equal data, equal fingerprint."""
    url = _db_url(db_url)
    _scenario(scenario)
    click.echo(_run(database_fingerprint, url, scenario))


# --- snapshots ------------------------------------------------------------------------------------

DEFAULT_CACHE_DIR = os.path.join(".pytest_cache", "d", "demoseed")
cache_dir_option = click.option(
    "--cache-dir",
    default=DEFAULT_CACHE_DIR,
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="The cache directory (pytest's --demo-cache-dir; --demo-reuse alone keeps them in the default).",
)
server_url_option = click.option(
    "--db-url",
    envvar=ENV_URL,
    metavar="URL",
    help=f"A server's URL (pytest's --demo-db-url), to include its snapshot databases (default: ${ENV_URL}).",
)


@cli.group("snapshots")
def snapshots_group() -> None:
    """Snapshot keys for CI caches, and the snapshots a cache directory keeps."""


@snapshots_group.command("key")
@scenarios_option(envvar=None)
@click.option("--db-url", envvar=ENV_URL, metavar="URL", help="The run's --demo-db-url (default: SQLite).")
@click.option("--scenario", default="baseline", show_default=True, metavar="NAME", help="Scenario name.")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True, callback=_check_seed)
@click.option(
    "--set", "assignments", multiple=True, metavar="PHASE.KEY=VALUE", help="As pytest's --demo-set."
)
@click.option("--metadata", metavar="MODULE:ATTR", help="The run's ini demo_metadata, if it sets one.")
@click.option("--alembic", metavar="PATH", help="The run's --demo-alembic, if it migrates.")
@click.option("--alembic-target", default="head", show_default=True, metavar="REV")
@click.option(
    "--schema",
    type=click.Choice(("create_all", "alembic", "none")),
    help="The run's --demo-schema (default: alembic with --alembic, else create_all).",
)
def key_command(
    db_url: str | None,
    scenario: str,
    seed_value: int,
    assignments: tuple[str, ...],
    metadata: str | None,
    alembic: str | None,
    alembic_target: str,
    schema: str | None,
) -> None:
    """Print the snapshot key pytest computes for a scenario (with the same options), and the
    scenario's name: a CI cache key that changes exactly when the data would."""
    url = _db_url(db_url) if db_url else "sqlite:///demoseed.sqlite"
    try:
        spec = resolve(scenario, seed=seed_value, settings=list(assignments))
    except ScenarioError as exc:
        _usage(str(exc))
    schema_metadata = spec.scenario.metadata
    if metadata:
        try:
            schema_metadata = load_metadata(metadata)
        except ScenarioError as exc:
            _usage(f"--metadata {exc}")
    mode = schema or ("alembic" if alembic else "create_all")
    migrations_key = ""
    if mode == "alembic":
        if not alembic:
            _usage("--schema alembic needs --alembic PATH")
        try:
            migrations_key = load_migrations(alembic, alembic_target).key
        except MigrationError as exc:
            _usage(f"--alembic {alembic}: {exc}")
    backend = backend_for(url, reuse=True)
    source = schema_source(mode, migrations_key)
    key = snapshot_key(spec, schema_metadata, backend.dialect_name, backend.identity, source)
    click.echo(f"{key} {spec.scenario_name}")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _parse_age(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = value.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise click.BadParameter(f"{value!r}: give a number and a unit, e.g. 30m, 12h, 7d, 2w")
    return int(text[:-1]) * units[text[-1]]


def _describe(snapshot: KeptSnapshot) -> str:
    where = f" on {snapshot.database}" if snapshot.database else ""
    note = f"  ({snapshot.orphan})" if snapshot.orphan else ""
    size = f"{snapshot.size / 1e6:.1f} MB" if snapshot.size else "-"
    used = f"used {_age(snapshot.age)} ago"
    return f"{snapshot.key}  {snapshot.scenario}  {snapshot.backend}  {size}  {used}{where}{note}"


@snapshots_group.command("list")
@cache_dir_option
@server_url_option
def list_snapshots_command(cache_dir: str, db_url: str | None) -> None:
    """Show the snapshots a cache directory keeps (and with --db-url the server's), oldest use first."""
    url = _db_url(db_url) if db_url else None
    found = _run(list_snapshots, Path(cache_dir), url, usage=(ServerError,))
    if not found:
        click.echo(f"no snapshots kept in {cache_dir}")
    for snapshot in found:
        click.echo(_describe(snapshot))


@snapshots_group.command("prune")
@cache_dir_option
@server_url_option
@click.option(
    "--older-than", callback=_parse_age, metavar="AGE", help="Also those no run used for AGE (30m, 12h, 7d)."
)
@click.option("--all", "everything", is_flag=True, help="All of them.")
def prune_command(cache_dir: str, db_url: str | None, older_than: float | None, everything: bool) -> None:
    """Remove kept snapshots that can never be used again (no sidecar, or nothing behind it), and
    those --older-than or --all say: their files, portable files and server databases (templates
    included). A snapshot a run is using is left alone."""
    url = _db_url(db_url) if db_url else None
    removed = _run(prune_snapshots, Path(cache_dir), url, older_than=older_than, everything=everything)
    for snapshot in removed:
        click.echo(f"removed {_describe(snapshot)}")
    click.echo(f"removed {len(removed)} snapshot{'' if len(removed) == 1 else 's'} from {cache_dir}")


# --- entry point ----------------------------------------------------------------------------------


def _error(message: str) -> None:
    text = " ".join(message.split())  # one line, whatever the message held
    click.echo(f"demoseed: error: {text}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (the console script passes it to ``sys.exit``)."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="demoseed", standalone_mode=False
        )
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code
    except click.Abort:
        _error("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except ScenarioError as exc:  # e.g. an installed package's entry point that cannot be loaded
        _error(str(exc))
        return EXIT_RUNTIME
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
