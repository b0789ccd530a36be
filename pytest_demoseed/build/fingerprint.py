"""Content fingerprints: one hash over every row of every table, equal on every backend.

Each row becomes one line of canonical text (see ``determinism.canonical``) in the table's column
order; a table's digest is the sum, modulo 2**128, of its rows' blake2b digests, so it does not
depend on the order rows are read in (rows are distinct because each has its primary key). The
fingerprint hashes the sorted ``table:rows:digest`` lines. The same function serves the builder
(fed the rows it writes) and ``fingerprint_database`` (fed the rows read back).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Literal

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


@dataclass(frozen=True)
class _PlainCheck:
    """How to tell that a batch's values of one plain column read back exactly as given."""

    key: str
    allowed: frozenset[type]
    #: DateTime/Time: naive values only; on MySQL/MariaDB whole seconds only too (their columns
    #: keep no fraction unless declared with one).
    naive: bool = False
    whole_seconds: bool = False

    def holds(self, values: Sequence[Any]) -> bool:
        if not set(map(type, values)) <= self.allowed:
            return False
        present = [v for v in values if v is not None] if None in values else values
        if self.naive and set(map(_TZINFO, present)) - {None}:
            return False
        return not (self.whole_seconds and any(map(_MICROSECOND, present)))


_TZINFO = operator.attrgetter("tzinfo")
_MICROSECOND = operator.attrgetter("microsecond")


def _plain_check(column: sa.Column[Any], dialect: sa.Dialect) -> _PlainCheck | None:
    """The check for ``column``'s values, or None if its type may read back otherwise."""
    kind = column.type
    accepted = _PLAIN.get(type(kind))
    if accepted is None or getattr(kind, "timezone", False):
        return None
    timely = isinstance(kind, (sa.DateTime, sa.Time))
    return _PlainCheck(
        key=column.key,
        allowed=frozenset({*accepted, type(None)}),
        naive=timely,
        whole_seconds=timely and dialect.name in ("mysql", "mariadb"),
    )


_BIG: Literal["big"] = "big"
_BLAKE16 = functools.partial(hashlib.blake2b, digest_size=16)
_DIGEST = operator.methodcaller("digest")
_BOOLEAN_TEXT = {True: "true", False: "false", None: "null"}
#: The canonical text of a plain type's values, by exact column type (values verified exact).
_PLAIN_TEXT: dict[type, Callable[[Any], str]] = {
    sa.Integer: int.__repr__,
    sa.BigInteger: int.__repr__,
    sa.SmallInteger: int.__repr__,
    sa.Date: dt.date.isoformat,
    sa.DateTime: operator.methodcaller("isoformat", "T", "microseconds"),
    sa.Time: operator.methodcaller("isoformat", "microseconds"),
}


def _plain_texts(column: sa.Column[Any], values: Sequence[Any] | None, count: int) -> Iterable[str]:
    """The canonical texts of one plain column's values (``canonical``'s, without its tests)."""
    if values is None:
        return repeat("null", count)
    kind = type(column.type)
    if kind is sa.Boolean:
        return map(_BOOLEAN_TEXT.__getitem__, values)
    if None in values:
        return map(canonical, values)
    if kind in _PLAIN_TEXT:
        return map(_PLAIN_TEXT[kind], values)
    return values  # a string is its own text


class Fingerprint:
    """Accumulates per-table digests of rows for the tables of ``metadata``."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self._sums: dict[str, int] = {name: 0 for name in metadata.tables}
        self._counts: dict[str, int] = {name: 0 for name in metadata.tables}
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[list[int | None], list[Any]]] = {}
        self._checks: dict[tuple[str, tuple[str, ...]], list[_PlainCheck] | None] = {}
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
        may return them otherwise.

        Both the checks and the hashing go column by column and row by row through C-level
        ``map`` calls (no Python code per value): the same texts and digests as
        :meth:`add_rows`, several times faster.
        """
        if table_name in self.read_back_tables or not rows:
            return
        key = (table_name, columns)
        if key not in self._checks:
            table = self.metadata.tables[table_name]
            found = [_plain_check(table.c[name], dialect) for name in columns]
            self._checks[key] = None if None in found else [c for c in found if c is not None]
        checks = self._checks[key]
        by_key = dict(zip(columns, zip(*rows, strict=True), strict=True))
        if checks is None or not all(check.holds(by_key[check.key]) for check in checks):
            self.read_back_tables.add(table_name)
            return
        table = self.metadata.tables[table_name]
        texts = [_plain_texts(column, by_key.get(column.key), len(rows)) for column in table.columns]
        lines = map(str.encode, map("\x1f".join, zip(*texts, strict=True)))
        digests = map(_DIGEST, map(_BLAKE16, lines))
        total = self._sums[table_name] + sum(map(int.from_bytes, digests, repeat(_BIG)))
        self._sums[table_name] = total % _MOD
        self._counts[table_name] += len(rows)

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
