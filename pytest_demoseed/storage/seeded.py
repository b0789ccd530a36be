"""What ``seed()`` wrote, kept in the database itself, so ``clear`` deletes exactly that.

A staging database holds real rows beside the demo data; deleting every row of the scenario's
tables would delete them too. So each ``seed()`` (and ``demoseed seed``) records, inside its
build's transaction, the keys it wrote per table in one small table, ``demoseed_seeded``:

- a table with one integer primary key (the keys the builder allocates, in ranges) gets one
  row per run of consecutive keys (``first_key``..``last_key``): a whole phase is usually one
  row, so the record costs nothing measurable;
- any other key (a string, a composite) gets one row per key (``key_json``, the key's values
  as a JSON list).

The table has its own metadata, never the scenario's: it is not checked, fingerprinted,
cleared or moved past by sequences with the scenario's tables. The fixtures' snapshots do not
write it (their databases are the run's own and dropped whole).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.errors import ScenarioError, SeedRefused
from pytest_demoseed.scenario.declare import Batch, Phase, Scenario
from pytest_demoseed.scenario.keys import integer_primary_key
from pytest_demoseed.scenario.spec import ScenarioSpec

__all__ = [
    "SEEDED_TABLE",
    "SeedRecorder",
    "clear_seeded",
    "ensure_table",
    "phase_has_rows",
    "refuse_if_seeded",
    "scenario_tables",
]

#: Per-key rows are written, and matched when clearing, this many keys at a time.
_CHUNK = 500

_METADATA = sa.MetaData()
SEEDED_TABLE = sa.Table(
    "demoseed_seeded",
    _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scenario", sa.String(200), nullable=False),
    sa.Column("seed", sa.String(40), nullable=False),  # any size of int: text
    sa.Column("spec_key", sa.String(32), nullable=False),
    sa.Column("table_name", sa.String(200), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("first_key", sa.BigInteger, nullable=True),
    sa.Column("last_key", sa.BigInteger, nullable=True),
    sa.Column("key_json", sa.Text, nullable=True),
    sa.Index("demoseed_seeded_scenario", "scenario", "table_name"),
)


def ensure_table(conn: sa.Connection) -> None:
    """Create the bookkeeping table if it is not there (inside the caller's transaction where
    the backend's DDL is transactional)."""
    SEEDED_TABLE.create(conn, checkfirst=True)


def _exists(conn: sa.Connection) -> bool:
    return sa.inspect(conn).has_table(SEEDED_TABLE.name)


def scenario_tables(scenario: Scenario) -> list[sa.Table]:
    """The tables the scenario's phases write, children first (the order rows can be deleted in).

    Only the tables the phases declare: an application's other tables in the same metadata are
    never touched. A scenario whose phases declare none owns every table of its metadata.
    """
    declared = {name for item in scenario.phases for name in item.tables}
    tables = [t for t in scenario.metadata.sorted_tables if not declared or t.name in declared]
    return list(reversed(tables))


# --- recording ------------------------------------------------------------------------------------


@dataclass
class SeedRecorder:
    """Collects the keys of every batch the builder writes; :meth:`write` stores them.

    ``add`` is the builder's ``on_batch`` and ``write`` its ``before_commit``: both run inside
    the build's transaction, so the record commits or rolls back with the rows.
    """

    spec: ScenarioSpec
    ranges: dict[str, list[list[int]]] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    _plans: dict[tuple[str, tuple[str, ...]], tuple[bool, tuple[int, ...]]] = field(default_factory=dict)

    def _plan(self, batch: Batch) -> tuple[bool, tuple[int, ...]]:
        plan = self._plans.get((batch.table, batch.columns))
        if plan is None:
            table = self.spec.scenario.metadata.tables[batch.table]
            names = [c.name for c in table.primary_key.columns]
            missing = [n for n in names if n not in batch.columns]
            if not names or missing:
                raise ScenarioError(
                    f"a phase wrote rows of table {batch.table!r} without their primary key "
                    f"({', '.join(missing) or 'the table has none'}); seed() records every key it "
                    "writes so that clear deletes only those rows"
                )
            plan = (integer_primary_key(table) is not None, tuple(batch.columns.index(n) for n in names))
            self._plans[(batch.table, batch.columns)] = plan
        return plan

    def add(self, batch: Batch) -> None:
        if not batch.rows:
            return
        integer, positions = self._plan(batch)
        if not integer:
            self.keys.setdefault(batch.table, []).extend(
                json.dumps([row[i] for i in positions], default=str) for row in batch.rows
            )
            return
        (position,) = positions
        values = [row[position] for row in batch.rows]
        if None in values:  # the database would pick the key: seed() could not say which rows it made
            raise ScenarioError(
                f"a phase wrote rows of table {batch.table!r} with no primary key value; seed() "
                "records every key it writes so that clear deletes only those rows (allocate keys "
                "with ctx.allocate)"
            )
        runs = self.ranges.setdefault(batch.table, [])
        first = values[0]
        if values == list(range(first, first + len(values))):  # the builder's usual shape: one run
            _extend(runs, first, first + len(values) - 1)
            return
        for value in sorted(values):
            _extend(runs, value, value)

    def records(self) -> Iterator[dict[str, Any]]:
        spec = self.spec
        base = {"scenario": spec.scenario_name, "seed": str(spec.seed), "spec_key": spec.key}
        for table_name, runs in self.ranges.items():
            for first, last in runs:
                run = {"rows": last - first + 1, "first_key": first, "last_key": last, "key_json": None}
                yield {**base, "table_name": table_name, **run}
        for table_name, keys in self.keys.items():
            for key in keys:
                one = {"rows": 1, "first_key": None, "last_key": None, "key_json": key}
                yield {**base, "table_name": table_name, **one}

    def write(self, conn: sa.Connection) -> None:
        rows = list(self.records())
        for start in range(0, len(rows), _CHUNK * 10):
            conn.execute(SEEDED_TABLE.insert(), rows[start : start + _CHUNK * 10])


def _extend(runs: list[list[int]], first: int, last: int) -> None:
    """Add ``first..last`` to ``runs``, joining it to the last run when they touch."""
    if runs and runs[-1][1] + 1 == first:
        runs[-1][1] = last
    else:
        runs.append([first, last])


# --- reading back ---------------------------------------------------------------------------------


@dataclass
class _Recorded:
    """One table's recorded keys: ranges of an integer key, or single keys of any other."""

    ranges: list[tuple[int, int]] = field(default_factory=list)
    keys: list[list[Any]] = field(default_factory=list)

    def conditions(self, table: sa.FromClause, key_names: list[str]) -> Iterator[sa.ColumnElement[bool]]:
        """Clauses matching the recorded rows of ``table`` (or an alias of it), a few at a time."""
        columns = [table.c[name] for name in key_names]
        for start in range(0, len(self.ranges), _CHUNK):
            runs = self.ranges[start : start + _CHUNK]
            yield sa.or_(*[columns[0].between(first, last) for first, last in runs])
        for start in range(0, len(self.keys), _CHUNK):
            keys = self.keys[start : start + _CHUNK]
            if len(columns) == 1:
                yield columns[0].in_([values[0] for values in keys])
            else:
                yield sa.tuple_(*columns).in_([tuple(values) for values in keys])


def _recorded(conn: sa.Connection, scenario: Scenario) -> dict[str, _Recorded]:
    found: dict[str, _Recorded] = {}
    query = sa.select(
        SEEDED_TABLE.c.table_name, SEEDED_TABLE.c.first_key, SEEDED_TABLE.c.last_key, SEEDED_TABLE.c.key_json
    ).where(SEEDED_TABLE.c.scenario == scenario.name)
    for table_name, first, last, key_json in conn.execute(query):
        record = found.setdefault(table_name, _Recorded())
        if key_json is None:
            record.ranges.append((int(first), int(last)))
        else:
            table = scenario.metadata.tables.get(table_name)
            names = [c.name for c in table.primary_key.columns] if table is not None else []
            record.keys.append(_revive(table, names, json.loads(key_json)))
    return found


def _revive(table: sa.Table | None, names: list[str], values: list[Any]) -> list[Any]:
    """Key values as the column types bind them: dates and times come back from JSON as text."""
    if table is None:
        return values
    out = []
    for name, value in zip(names, values, strict=False):
        kind = table.c[name].type
        if isinstance(value, str) and isinstance(kind, sa.DateTime):
            value = dt.datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(kind, sa.Date):
            value = dt.date.fromisoformat(value)
        out.append(value)
    return out


def refuse_if_seeded(conn: sa.Connection, scenario: Scenario) -> None:
    """SeedRefused when the database already holds rows ``seed()`` wrote for this scenario:
    seeding again would add a second copy, which is rarely what anyone means."""
    if not _exists(conn):
        return
    query = (
        sa.select(SEEDED_TABLE.c.seed, sa.func.sum(SEEDED_TABLE.c.rows))
        .where(SEEDED_TABLE.c.scenario == scenario.name)
        .group_by(SEEDED_TABLE.c.seed)
        .order_by(SEEDED_TABLE.c.seed)
    )
    found = [(seed, int(rows)) for seed, rows in conn.execute(query)]
    if found:
        seeds = ", ".join(seed for seed, _ in found)
        rows = sum(count for _, count in found)
        raise SeedRefused(
            f"the database already holds scenario {scenario.name!r} ({rows:,} rows, seed {seeds}); "
            "--clear (clear=True) replaces them, --append (append=True) adds another copy"
        )


def phase_has_rows(conn: sa.Connection, scenario: Scenario) -> Callable[[Phase], bool]:
    """``has_rows`` for :func:`~pytest_demoseed.scenario.spec.check_reused_phases`: does any
    table the phase writes (every table of a phase that declares none) hold a row now?"""

    def has_rows(item: Phase) -> bool:
        names = item.tables or tuple(scenario.metadata.tables)
        tables = [scenario.metadata.tables[n] for n in names if n in scenario.metadata.tables]
        one_row = (sa.select(sa.literal(1)).select_from(table).limit(1) for table in tables)
        return any(conn.execute(query).first() is not None for query in one_row)

    return has_rows


# --- clearing -------------------------------------------------------------------------------------


def clear_seeded(conn: sa.Connection, scenario: Scenario) -> dict[str, int]:
    """Delete the rows ``seed()`` recorded for ``scenario``, children first, and their records.

    Rows anyone else made stay. A row that stays (the user's, or another scenario's) and
    references a recorded row stops the clear with one line naming both, before any delete.
    Returns the rows deleted per table of the scenario.
    """
    counts = {table.name: 0 for table in scenario_tables(scenario)}
    if not _exists(conn):
        return counts
    recorded = _recorded(conn, scenario)
    unknown = sorted(set(recorded) - set(scenario.metadata.tables))
    if unknown:
        raise ScenarioError(
            f"demoseed recorded rows of table {unknown[0]!r} for scenario {scenario.name!r}, "
            "which its models no longer have; nothing was deleted"
        )
    _check_references(conn, scenario, recorded)
    for table in reversed(scenario.metadata.sorted_tables):
        record = recorded.get(table.name)
        if record is None:
            continue
        names = [c.name for c in table.primary_key.columns]
        deleted = sum(
            conn.execute(table.delete().where(cond)).rowcount for cond in record.conditions(table, names)
        )
        counts[table.name] = counts.get(table.name, 0) + deleted
    conn.execute(SEEDED_TABLE.delete().where(SEEDED_TABLE.c.scenario == scenario.name))
    return counts


def _check_references(conn: sa.Connection, scenario: Scenario, recorded: dict[str, _Recorded]) -> None:
    """ScenarioError naming the first row that would point at a deleted one.

    Every foreign key in the database is read (the application's tables outside the scenario's
    metadata too), so a user's table that references demo rows is found before anything goes.
    """
    inspector = sa.inspect(conn)
    keys_of: dict[str, list[str]] = {}

    def primary_key(name: str) -> list[str]:
        if name not in keys_of:
            table = scenario.metadata.tables.get(name)
            keys_of[name] = (
                [c.name for c in table.primary_key.columns]
                if table is not None
                else list(inspector.get_pk_constraint(name).get("constrained_columns") or [])
            )
        return keys_of[name]

    for (_schema, child_name), foreign_keys in inspector.get_multi_foreign_keys().items():
        for fk in foreign_keys:
            parent_name = fk["referred_table"]
            parent_record = recorded.get(parent_name)
            if parent_record is None or parent_name not in scenario.metadata.tables:
                continue
            child_cols, parent_cols = list(fk["constrained_columns"]), list(fk["referred_columns"])
            child_key = primary_key(child_name) or child_cols
            names = sorted({*child_cols, *child_key})
            child = sa.table(child_name, *[sa.column(n) for n in names]).alias("c")
            parent = scenario.metadata.tables[parent_name].alias("p")
            parent_key = primary_key(parent_name)
            staying = _staying(child, child_name, child_key, recorded)
            for condition in parent_record.conditions(parent, parent_key):
                linked = sa.and_(
                    *[child.c[c] == parent.c[p] for c, p in zip(child_cols, parent_cols, strict=True)]
                )
                query = (
                    sa.select(*[child.c[n] for n in child_key], *[parent.c[n] for n in parent_key])
                    .select_from(child.join(parent, linked))
                    .where(condition, *staying)
                    .limit(1)
                )
                row = conn.execute(query).first()
                if row is not None:
                    values = list(row)
                    child_text = _describe(child_key, values[: len(child_key)])
                    parent_text = _describe(parent_key, values[len(child_key) :])
                    raise ScenarioError(
                        f"cannot clear scenario {scenario.name!r}: row {child_text} of table "
                        f"{child_name!r}, which demoseed did not seed for it, references "
                        f"{parent_name} {parent_text}; delete or change that row first "
                        "(nothing was deleted)"
                    )


def _staying(
    child: sa.FromClause, child_name: str, child_key: list[str], recorded: dict[str, _Recorded]
) -> list[sa.ColumnElement[bool]]:
    """Clauses that keep only the child rows this clear does not delete."""
    record = recorded.get(child_name)
    if record is None:
        return []
    return [sa.not_(condition) for condition in record.conditions(child, child_key)]


def _describe(names: Iterable[str], values: Iterable[Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=False))
