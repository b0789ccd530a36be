"""Content fingerprints: one hash over every row of every table, equal on every backend.

Each row becomes one line: the canonical texts of its values (see ``determinism.canonical``) in
the table's column order, joined by ``\x1f``. A table's digest is the 16-byte blake2b of its
lines in primary-key order, each line ended by ``\x1e`` (a table without a primary key: in the
order of the lines themselves). So the digest depends on the rows only, not on the order they
were written or are read in. The fingerprint hashes the sorted ``table:rows:digest`` lines.

The builder feeds the rows it writes (:meth:`Fingerprint.add_built_rows`), a batch's lines
joined and hashed in one call; its batches come in key order (the builder's keys ascend), which
it checks, and a table whose rows do not, or may read back otherwise than written, is read back
after the last phase instead. ``fingerprint_database`` reads every table back: ``ORDER BY`` a
single integer key (the same order in every database), any other key or none sorted here.

Why one hash per batch: hashing each row and summing the digests (the form before, which made
the digest independent of order by itself) cost 1.15 us a row; the lines of a batch joined and
hashed at once cost 0.55 us, most of it the ``%``-format that makes each line (``large``: about
1 s of a 10 s build on SQLite). :data:`DEFINITION` names this form in snapshot keys.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.build.memo import TextMemo
from pytest_demoseed.generate.determinism import canonical
from pytest_demoseed.scenario.keys import integer_primary_key

__all__ = ["Fingerprint", "fingerprint_database"]

#: Rows read back (and lines hashed) per chunk.
_CHUNK = 5000
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

    def holds(self, values: Sequence[Any], types: set[type]) -> bool:
        """Whether ``values`` (whose exact ``types`` the caller has) read back as given."""
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


_BLAKE16 = functools.partial(hashlib.blake2b, digest_size=16)
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


def _plain_texts(
    column: sa.Column[Any], values: Sequence[Any], dated: TextMemo | None, has_none: bool
) -> Iterable[Any]:
    """One plain column's values as what ``%s`` turns into their canonical texts
    (``canonical``'s, without its tests): exact ints and strings as they are, dates and times
    through ``dated``, the column's memo of :data:`_PLAIN_TEXT`."""
    if type(column.type) is sa.Boolean:
        return map(_BOOLEAN_TEXT.__getitem__, values)
    if has_none:
        return map(canonical, values)
    if dated is not None:
        return dated(values)
    return values  # an int or a string: ``%s`` writes its text


def _line_format(table: sa.Table, given: Mapping[str, Any]) -> str:
    """The ``%``-format of a row's canonical line: ``%s`` for each column given, ``null`` for
    each left out, in the table's column order. One C-level ``%`` per row makes the line."""
    return _SEPARATOR.join("%s" if column.key in given else "null" for column in table.columns)


#: Names the fingerprint's definition; part of every snapshot key, so a change makes new keys.
DEFINITION = "lines-in-key-order-1"
#: Ends each row's line in the text a table digest hashes.
_END = "\x1e"


class _TableDigest:
    """One table's digest while rows come in: the hash of their lines so far, in key order."""

    __slots__ = ("hasher", "rows", "last_key", "unkeyed")

    def __init__(self) -> None:
        self.hasher = _BLAKE16()
        self.rows = 0
        #: The highest key hashed so far: the next batch must start above it.
        self.last_key: Any = None
        #: A table without a primary key: its lines, hashed sorted when the digest is asked for.
        self.unkeyed: list[str] = []

    def add_lines(self, lines: Iterable[str]) -> None:
        """Hash lines that follow every line hashed so far in the table's order."""
        text = _END.join(lines)
        if text:
            self.hasher.update((text + _END).encode())

    def hexdigest(self) -> str:
        if not self.unkeyed:
            return self.hasher.hexdigest()
        final = self.hasher.copy()
        final.update((_END.join(sorted(self.unkeyed)) + _END).encode())
        return final.hexdigest()


def _at(convert: Callable[[Any], str], position: int) -> Callable[[Sequence[Any]], str]:
    return lambda row: convert(row[position])


def _key_positions(table: sa.Table, columns: Sequence[str]) -> list[int] | None:
    """Where ``table``'s primary-key columns are among ``columns``: None when it has no key, an
    empty list when ``columns`` lack one of them (the database makes it)."""
    keys = [column.key for column in table.primary_key.columns]
    if not keys:
        return None
    if not set(keys) <= set(columns):
        return []
    return [columns.index(key) for key in keys]


def _keys(by_column: Sequence[Sequence[Any]], positions: list[int]) -> Sequence[Any] | None:
    """A batch's primary keys, row by row: values, or tuples for a composite key (None: a key
    column is not in the batch)."""
    if not positions:
        return None
    if len(positions) == 1:
        return by_column[positions[0]]
    return list(zip(*[by_column[i] for i in positions], strict=True))


def _in_order(keys: Sequence[Any], after: Any) -> bool:
    """Whether ``keys`` strictly ascend, all above ``after`` (None: nothing before them)."""
    try:
        if after is not None and not after < keys[0]:
            return False
        return all(map(operator.lt, keys, islice(keys, 1, None)))
    except TypeError:  # keys that do not compare: their order is read back
        return False


class Fingerprint:
    """Accumulates per-table digests of rows for the tables of ``metadata``."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self._tables: dict[str, _TableDigest] = {name: _TableDigest() for name in metadata.tables}
        self._lines: dict[tuple[str, tuple[str, ...]], Callable[[Sequence[Any]], str]] = {}
        self._checks: dict[tuple[str, tuple[str, ...]], list[_PlainCheck] | None] = {}
        self._memos: dict[tuple[str, str], TextMemo] = {}
        #: Tables whose digest comes from reading them back (see the module's docstring).
        self.read_back_tables: set[str] = set()

    def _line_of(self, table_name: str, columns: tuple[str, ...]) -> Callable[[Sequence[Any]], str]:
        """How a row of any values (by ``columns``) becomes its canonical line: each column of
        the table in its order, through its converter (``null`` for a column left out)."""
        key = (table_name, columns)
        line = self._lines.get(key)
        if line is None:
            positions = {name: i for i, name in enumerate(columns)}
            texts = [
                (lambda row: "null")
                if column.key not in positions
                else _at(_converter(column), positions[column.key])
                for column in self.metadata.tables[table_name].columns
            ]

            def line(row: Sequence[Any]) -> str:
                return _SEPARATOR.join([text(row) for text in texts])

            self._lines[key] = line
        return line

    def add_rows(self, table_name: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]) -> None:
        """Digest ``rows`` (any order, any types: what a database reads back) as the table's rows:
        their lines are kept with their keys and hashed sorted."""
        line = self._line_of(table_name, columns)
        found = self._tables[table_name]
        positions = _key_positions(self.metadata.tables[table_name], columns)
        if not positions:  # no key (or not among ``columns``): the lines' own order
            before = len(found.unkeyed)
            found.unkeyed.extend(map(line, rows))
            found.rows += len(found.unkeyed) - before
            return
        pick = operator.itemgetter(*positions)
        keyed = [(pick(row), line(row)) for row in rows]
        try:
            keyed.sort(key=operator.itemgetter(0))
        except TypeError:  # keys that do not compare: ordered by their lines
            keyed.sort(key=operator.itemgetter(1))
        found.add_lines(map(operator.itemgetter(1), keyed))
        found.rows += len(keyed)

    def add_ordered_rows(
        self, table_name: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Digest ``rows`` already in primary-key order, a chunk of lines at a time."""
        line = self._line_of(table_name, columns)
        found = self._tables[table_name]
        chunk: list[str] = []
        for row in rows:
            chunk.append(line(row))
            if len(chunk) == _CHUNK:
                found.add_lines(chunk)
                found.rows += len(chunk)
                chunk = []
        found.add_lines(chunk)
        found.rows += len(chunk)

    def add_built_rows(
        self,
        table_name: str,
        columns: tuple[str, ...],
        rows: Sequence[Sequence[Any]],
        dialect: sa.Dialect,
        by_column: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        """Hash rows the builder writes, or mark their table to be read back if they may read
        back otherwise or come out of key order. ``by_column`` is the same values a column at a
        time, when the caller has them (it saves transposing the batch).

        The checks and the lines go column by column and row by row through C-level ``map``
        calls (no Python code per value), and the batch's lines are hashed in one call: the same
        texts and digest as :meth:`add_rows`, several times faster.
        """
        if table_name in self.read_back_tables or not rows:
            return
        key = (table_name, columns)
        if key not in self._checks:
            table = self.metadata.tables[table_name]
            found = [_plain_check(table.c[name], dialect) for name in columns]
            self._checks[key] = None if None in found else [c for c in found if c is not None]
        checks = self._checks[key]
        values = by_column if by_column is not None else list(zip(*rows, strict=True))
        by_key = dict(zip(columns, values, strict=True))
        # Each column's exact types, once: for its check and for whether it holds a None.
        types = {name: set(map(type, column)) for name, column in by_key.items()}
        if checks is None or not all(check.holds(by_key[check.key], types[check.key]) for check in checks):
            self.read_back_tables.add(table_name)
            return
        table = self.metadata.tables[table_name]
        digest = self._tables[table_name]
        positions = _key_positions(table, columns)
        if positions is not None:
            keys = _keys(values, positions)
            if keys is None or not _in_order(keys, digest.last_key):
                self.read_back_tables.add(table_name)
                return
            digest.last_key = keys[-1]
        texts = [
            _plain_texts(
                column, by_key[column.key], self._dated(table_name, column), _NONE_TYPE in types[column.key]
            )
            for column in table.columns
            if column.key in by_key
        ]
        lines = map(_line_format(table, by_key).__mod__, zip(*texts, strict=True))
        if positions is None:
            digest.unkeyed.extend(lines)
        else:
            digest.add_lines(lines)
        digest.rows += len(rows)

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

    def read_back(self, conn: sa.Connection, since: Mapping[str, int] | None = None) -> None:
        """Replace the digests of :attr:`read_back_tables` by what ``conn`` reads back: of a
        table in ``since``, the rows from that integer key on (the ones a build added to it)."""
        for name in sorted(self.read_back_tables):
            self._tables[name] = _TableDigest()
            _add_table(self, conn, self.metadata.tables[name], (since or {}).get(name))

    def table_digests(self) -> dict[str, str]:
        return {name: self._tables[name].hexdigest() for name in sorted(self._tables)}

    def counts(self) -> dict[str, int]:
        return {name: self._tables[name].rows for name in sorted(self._tables)}

    def hexdigest(self) -> str:
        digests = self.table_digests()
        lines = [f"{name}:{self._tables[name].rows}:{digests[name]}" for name in digests]
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


def _add_table(
    fingerprint: Fingerprint, conn: sa.Connection, table: sa.Table, since: int | None = None
) -> None:
    """Digest one table as read back (its rows from key ``since`` on, when given): ordered by the
    database when its key is one integer column (every database orders integers alike), else
    read whole and sorted here."""
    columns = tuple(col.key for col in table.columns)
    key = integer_primary_key(table)
    select = sa.select(*table.columns)
    if key is not None and since is not None:
        select = select.where(key >= since)
    if key is None:
        rows = conn.execute(select.execution_options(yield_per=_CHUNK))
        fingerprint.add_rows(table.key, columns, (tuple(row) for row in rows))
        return
    rows = conn.execute(select.order_by(key).execution_options(yield_per=_CHUNK))
    fingerprint.add_ordered_rows(table.key, columns, (tuple(row) for row in rows))
