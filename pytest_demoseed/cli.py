"""The ``demoseed`` command: list scenarios and seed a database outside tests.

click parses arguments (subcommands, env defaults, usage errors with exit code 2) so we do not
hand-roll a parser. Errors a user can fix are one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from .build import build
from .engines import make_engine, safe_url
from .registry import all_scenarios
from .scenario import ScenarioError
from .spec import parse_assignment, resolve_spec


def _overrides(assignments: tuple[str, ...]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for text in assignments:
        phase_name, key, value = parse_assignment(text)
        merged.setdefault(phase_name, {})[key] = value
    return merged


@click.group()
def main() -> None:
    """Seed databases with pytest-demoseed scenarios."""


@main.command("list")
def list_scenarios() -> None:
    """Every scenario, its description and its phase defaults."""
    for scenario in all_scenarios():
        click.echo(f"{scenario.name}: {scenario.description}")
        for name, values in scenario.defaults().items():
            click.echo(f"    {name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


@main.command()
@click.option("--db-url", envvar="DEMOSEED_DATABASE_URL", required=True, help="SQLAlchemy URL")
@click.option("--scenario", default="baseline", show_default=True)
@click.option("--seed", "root_seed", type=click.IntRange(min=0), default=42, show_default=True)
@click.option("--set", "assignments", multiple=True, metavar="PHASE.KEY=VALUE")
@click.option("--create-schema", is_flag=True, help="create missing tables first")
@click.option("--clear", is_flag=True, help="delete the scenario's tables' rows first (same transaction as nothing else)")
def seed(
    db_url: str, scenario: str, root_seed: int, assignments: tuple[str, ...], create_schema: bool, clear: bool
) -> None:
    """Build SCENARIO into the database in one transaction and print what was made."""
    try:
        fresh = clear
        spec = resolve_spec(scenario, root_seed, _overrides(assignments), fresh_database=fresh)
        engine = make_engine(db_url)
        metadata = spec.scenario.metadata
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        if create_schema:
            metadata.create_all(engine)
        if clear:
            with engine.begin() as conn:
                tables = set(sa.inspect(conn).get_table_names())
                for table in reversed(metadata.sorted_tables):
                    if table.name in tables:
                        conn.execute(table.delete())
        dataset = build(engine, spec, database_label=safe_url(db_url))
    except ScenarioError as exc:
        click.echo(f"demoseed: error: {exc}", err=True)
        sys.exit(2)
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        click.echo(f"demoseed: error: database {safe_url(db_url)}: {first}", err=True)
        sys.exit(1)
    click.echo(f"{dataset.scenario} seed={dataset.seed} into {dataset.database}")
    click.echo("rows: " + ", ".join(f"{t} {n:,}" for t, n in dataset.counts.items()))
    click.echo(f"built in {dataset.build_seconds:.3f}s, fingerprint {dataset.fingerprint}")


if __name__ == "__main__":  # pragma: no cover
    main()
