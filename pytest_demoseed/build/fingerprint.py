"""Content fingerprints: one hash over every row of every table, equal on every backend.

Each row becomes one line of canonical text (see ``determinism.canonical``) in the table's column
order; a table's digest is the sum, modulo 2**128, of its rows' blake2b digests, so it does not
depend on the order rows are read in (rows are distinct because each has its primary key). The
fingerprint hashes the sorted ``table:rows:digest`` lines. The same function serves the builder
(fed the rows it writes) and ``fingerprint_database`` (fed the rows read back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.generate.determinism import canonical

__all__ = ["Fingerprint", "fingerprint_database"]

_MOD = 1 << 128


def _converter(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return lambda v: "null" if v is None else ("true" if v else "false")
    if isinstance(kind, (sa.Integer, sa.String)) and not column.nullable:
        return str
    return canonical


#: Column types whose values read back as given, by exact type, with the Python types they take.
_PLAIN: dict[type, tuple[type, ...]] = {
    sa.Integer: (int,),
    sa.BigInteger: (int,),
    sa.SmallInteger: (int,),
    sa.String: (str,),
    sa.Text: (str,),
    sa.Unicode: (str,),
    sa.UnicodeText: (str,),
    sa.Boolean: (bool,),
    sa.Date: (dt.date,),
    sa.DateTime: (dt.datetime,),
    sa.Time: (dt.time,),
}

#: A plain column's check of a batch: its position and whether all its values read back as given.
_Check = tuple[int, Callable[[Sequence[Sequence[Any]]], bool]]


def _plain_check(column: sa.Column[Any], index: int, dialect: sa.Dialect) -> _Check | None:
    """How to tell a batch's values of ``column`` read back as given, or None if they may not."""
    kind = column.type
    accepted = _PLAIN.get(type(kind))
    if accepted is None or getattr(kind, "timezone", False):
        return None
    allowed = {*accepted, type(None)}
    if isinstance(kind, (sa.DateTime, sa.Time)):
        # naive values only; MySQL/MariaDB keep whole seconds unless the column says otherwise
        whole_seconds = dialect.name in ("mysql", "mariadb")

        def timely(rows: Sequence[Sequence[Any]]) -> bool:
            for row in rows:
                value = row[index]
                if value is None:
                    continue
                if type(value) not in allowed or value.tzinfo is not None:
                    return False
                if whole_seconds and value.microsecond:
                    return False
            return True

        return index, timely
    return index, lambda rows: {type(row[index]) for row in rows} <= allowed


class Fingerprint:
    """Accumulates per-table digests of rows for the tables of ``metadata``."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self._sums: dict[str, int] = {name: 0 for name in metadata.tables}
        self._counts: dict[str, int] = {name: 0 for name in metadata.tables}
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[list[int | None], list[Any]]] = {}
        self._checks: dict[tuple[str, tuple[str, ...]], list[_Check] | None] = {}
        #: Tables whose digest comes from reading them back (see the module's docstring).
        self.read_back_tables: set[str] = set()

    def _plan(self, table_name: str, columns: tuple[str, ...]) -> tuple[list[int | None], list[Any]]:
        key = (table_name, columns)
        plan = self._plans.get(key)
        if plan is None:
            table = self.metadata.tables[table_name]
            positions = {name: i for i, name in enumerate(columns)}
            order = [positions.get(col.key) for col in table.columns]
            converters = [_converter(col) for col in table.columns]
            plan = (order, converters)
            self._plans[key] = plan
        return plan

    def add_rows(self, table_name: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]) -> None:
        order, converters = self._plan(table_name, columns)
        blake = hashlib.blake2b
        total = self._sums[table_name]
        count = 0
        identity = order == list(range(len(order)))
        for row in rows:
            if identity:
                text = "\x1f".join([conv(v) for conv, v in zip(converters, row, strict=True)])
            else:
                pairs = zip(converters, order, strict=True)
                text = "\x1f".join([conv(None if pos is None else row[pos]) for conv, pos in pairs])
            total += int.from_bytes(blake(text.encode(), digest_size=16).digest(), "big")
            count += 1
        self._sums[table_name] = total % _MOD
        self._counts[table_name] += count

    def add_built_rows(
        self, table_name: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]], dialect: sa.Dialect
    ) -> None:
        """Hash rows the builder writes, or mark their table to be read back if the database
        may return them otherwise."""
        if table_name in self.read_back_tables:
            return
        key = (table_name, columns)
        if key not in self._checks:
            table = self.metadata.tables[table_name]
            found = [_plain_check(table.c[name], i, dialect) for i, name in enumerate(columns)]
            self._checks[key] = None if None in found else [c for c in found if c is not None]
        checks = self._checks[key]
        if checks is None or not all(check(rows) for _, check in checks):
            self.read_back_tables.add(table_name)
            return
        self.add_rows(table_name, columns, rows)

    def read_back(self, conn: sa.Connection) -> None:
        """Replace the digests of :attr:`read_back_tables` by what ``conn`` reads back."""
        for name in sorted(self.read_back_tables):
            self._sums[name], self._counts[name] = 0, 0
            _add_table(self, conn, self.metadata.tables[name])

    def table_digests(self) -> dict[str, str]:
        return {name: f"{self._sums[name]:032x}" for name in sorted(self._sums)}

    def counts(self) -> dict[str, int]:
        return {name: self._counts[name] for name in sorted(self._counts)}

    def hexdigest(self) -> str:
        lines = [f"{name}:{self._counts[name]}:{self._sums[name]:032x}" for name in sorted(self._sums)]
        return hashlib.blake2b("\n".join(lines).encode(), digest_size=16).hexdigest()


def fingerprint_database(conn: sa.Connection, metadata: sa.MetaData) -> Fingerprint:
    """Read every row of ``metadata``'s tables back and fingerprint them.

    Rows are streamed per statement (``yield_per`` on the select): setting it on ``conn`` would
    change the caller's connection in place, and on a test's connection the next SAVEPOINT or
    ROLLBACK would then fail on PostgreSQL.
    """
    result = Fingerprint(metadata)
    for table in metadata.sorted_tables:
        _add_table(result, conn, table)
    return result


def _add_table(fingerprint: Fingerprint, conn: sa.Connection, table: sa.Table) -> None:
    columns = tuple(col.key for col in table.columns)
    rows = conn.execute(sa.select(*table.columns).execution_options(yield_per=5000))
    fingerprint.add_rows(table.key, columns, (tuple(r) for r in rows))
