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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Literal

import sqlalchemy as sa

from pytest_demoseed.build.memo import TextMemo
from pytest_demoseed.generate.determinism import canonical

__all__ = ["Fingerprint", "fingerprint_database"]

_MOD = 1 << 128
#: Between the canonical texts of a row's values, in the line that is hashed.
_SEPARATOR = "\x1f"


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
        types = set(map(type, values))
        if not types <= self.allowed:
            return False
        if not (self.naive or self.whole_seconds):
            return True
        present = [v for v in values if v is not None] if _NONE_TYPE in types else values
        if self.naive and set(map(_TZINFO, present)) - {None}:
            return False
        return not (self.whole_seconds and any(map(_MICROSECOND, present)))


_NONE_TYPE = type(None)
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
#: The unbound method, not ``methodcaller("digest")``: about a quarter less per row.
_DIGEST = hashlib.blake2b.digest
_BOOLEAN_TEXT = {True: "true", False: "false", None: "null"}


def _datetime_texts(values: Sequence[Any]) -> Iterable[str]:
    # The unbound method with repeated arguments: half the cost of a methodcaller's call.
    return map(dt.datetime.isoformat, values, repeat("T"), repeat("microseconds"))


#: The canonical texts of a plain type's column of values, by exact column type (values
#: verified exact): ``canonical``'s texts, a column at a time. Integers and strings are not
#: here: ``%s`` makes their texts as it formats the line.
_PLAIN_TEXT: dict[type, Callable[[Sequence[Any]], Iterable[str]]] = {
    sa.Date: functools.partial(map, dt.date.isoformat),
    sa.DateTime: _datetime_texts,
    sa.Time: lambda values: map(dt.time.isoformat, values, repeat("microseconds")),
}


def _plain_texts(column: sa.Column[Any], values: Sequence[Any], dated: TextMemo | None) -> Iterable[Any]:
    """One plain column's values as what ``%s`` turns into their canonical texts
    (``canonical``'s, without its tests): exact ints and strings as they are, dates and times
    through ``dated``, the column's memo of :data:`_PLAIN_TEXT`."""
    if type(column.type) is sa.Boolean:
        return map(_BOOLEAN_TEXT.__getitem__, values)
    if None in values:
        return map(canonical, values)
    if dated is not None:
        return dated(values)
    return values  # an int or a string: ``%s`` writes its text


def _line_format(table: sa.Table, given: Mapping[str, Any]) -> str:
    """The ``%``-format of a row's canonical line: ``%s`` for each column given, ``null`` for
    each left out, in the table's column order. One C-level ``%`` per row makes the line."""
    return _SEPARATOR.join("%s" if column.key in given else "null" for column in table.columns)


class Fingerprint:
    """Accumulates per-table digests of rows for the tables of ``metadata``."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self._sums: dict[str, int] = {name: 0 for name in metadata.tables}
        self._counts: dict[str, int] = {name: 0 for name in metadata.tables}
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[list[int | None], list[Any]]] = {}
        self._checks: dict[tuple[str, tuple[str, ...]], list[_PlainCheck] | None] = {}
        self._memos: dict[tuple[str, str], TextMemo] = {}
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
                text = _SEPARATOR.join([conv(v) for conv, v in zip(converters, row, strict=True)])
            else:
                pairs = zip(converters, order, strict=True)
                text = _SEPARATOR.join([conv(None if pos is None else row[pos]) for conv, pos in pairs])
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
        texts = [
            _plain_texts(column, by_key[column.key], self._dated(table_name, column))
            for column in table.columns
            if column.key in by_key
        ]
        lines = map(str.encode, map(_line_format(table, by_key).__mod__, zip(*texts, strict=True)))
        digests = map(_DIGEST, map(_BLAKE16, lines))
        total = self._sums[table_name] + sum(map(int.from_bytes, digests, repeat(_BIG)))
        self._sums[table_name] = total % _MOD
        self._counts[table_name] += len(rows)

    def _dated(self, table_name: str, column: sa.Column[Any]) -> TextMemo | None:
        """The memo of a date/time column's texts (None for other types), kept for the build."""
        convert = _PLAIN_TEXT.get(type(column.type))
        if convert is None:
            return None
        key = (table_name, column.key)
        memo = self._memos.get(key)
        if memo is None:
            memo = self._memos[key] = TextMemo(convert)
        return memo

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
