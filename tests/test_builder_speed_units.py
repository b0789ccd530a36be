"""The builder's speed paths give exactly what the plain paths give: C-level bind processing
against SQLAlchemy's processors (and its fallbacks), the memo of texts, the fingerprint's line
format, the election helpers made cheaper, and the paced garbage collector."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import random
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import pysqlite

from pytest_demoseed.build.binds import _fast_path, column_bind
from pytest_demoseed.build.builder import _PacedGc
from pytest_demoseed.build.fingerprint import Fingerprint, fingerprint_database
from pytest_demoseed.build.memo import TextMemo
from pytest_demoseed.election.factories import days_before
from pytest_demoseed.election.naming import luhn_digit, national_id
from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.generate.determinism import canonical
from pytest_demoseed.generate.distributions import spread_times
from pytest_demoseed.scenario.declare import Batch
from pytest_demoseed.storage.engines import make_engine

DIALECT = pysqlite.dialect()
UTC = dt.timezone.utc


def _dates(count: int) -> list[dt.date]:
    rng = random.Random(7)
    ends = [dt.date(1, 1, 1), dt.date(999, 12, 31), dt.date(1000, 1, 1), dt.date(9999, 12, 31)]
    return ends + [dt.date.fromordinal(rng.randrange(1, 3_652_060)) for _ in range(count)]


def _datetimes(count: int) -> list[dt.datetime]:
    rng = random.Random(8)
    made = [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(2026, 3, 1, 8)]
    for _ in range(count):
        day = dt.date.fromordinal(rng.randrange(1, 3_652_060))
        moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86_400))
        made.append(moment.replace(microsecond=rng.choice([0, 1, 999_999, rng.randrange(1_000_000)])))
    return made


class _MyDate(dt.date):
    def isoformat(self) -> str:
        return "not an iso date"


class _MyDateTime(dt.datetime):
    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "not an iso datetime"


def _processed(kind: sa.types.TypeEngine[Any], values: Sequence[Any]) -> list[Any]:
    """What SQLAlchemy's own bind processor makes of ``values``, one by one."""
    processor = kind._cached_bind_processor(DIALECT)
    assert processor is not None
    return [processor(value) for value in values]


def _bound(kind: sa.types.TypeEngine[Any], values: Sequence[Any]) -> list[Any]:
    bind = column_bind(kind, DIALECT)
    assert bind is not None
    return list(bind(values))


# --- bind processing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (sa.Date(), _dates(20_000)),
        (sa.DateTime(), _datetimes(20_000)),
        (sa.DateTime(timezone=True), _datetimes(2_000)),
    ],
    ids=["Date", "DateTime", "DateTime(timezone=True)"],
)
def test_sqlite_dates_bind_byte_for_byte_as_sqlalchemy_binds_them(
    kind: sa.types.TypeEngine[Any], values: list[Any]
) -> None:
    expected = _processed(kind, values)
    assert _bound(kind, values) == expected
    assert _bound(kind, values) == expected  # again, through the memo of texts


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (sa.Date(), [dt.date(2026, 3, 1), None, dt.date(1, 1, 1)]),  # a None among them
        (sa.Date(), [dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 8, 30)]),  # a datetime in a date column
        (sa.Date(), [_MyDate(2026, 3, 1), dt.date(2026, 3, 2)]),  # a subclass
        (sa.DateTime(), [dt.datetime(2026, 3, 1, 8, tzinfo=UTC), dt.datetime(2026, 3, 1, 9)]),  # aware
        (sa.DateTime(), [dt.datetime(2026, 3, 1, 8), None]),
        (sa.DateTime(), [dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 9)]),  # a date in a datetime column
        (sa.DateTime(), [_MyDateTime(2026, 3, 1, 8)]),
        (sqlite.DATETIME(truncate_microseconds=True), [dt.datetime(2026, 3, 1, 8, 0, 0, 5)]),
        (sqlite.DATE(storage_format="%(day)02d/%(month)02d/%(year)04d"), [dt.date(2026, 3, 1)]),
        (sa.TIMESTAMP(), [dt.datetime(2026, 3, 1, 8, 0, 0, 5)]),
        (sa.Time(), [dt.time(8, 30), dt.time(23, 59, 59, 999_999)]),
    ],
    ids=[
        "none-among-dates",
        "datetime-in-date",
        "date-subclass",
        "aware-datetime",
        "none-among-datetimes",
        "date-in-datetime",
        "datetime-subclass",
        "truncate-microseconds",
        "custom-storage-format",
        "timestamp",
        "time",
    ],
)
def test_anything_else_goes_through_sqlalchemys_processor(
    kind: sa.types.TypeEngine[Any], values: list[Any]
) -> None:
    assert _bound(kind, values) == _processed(kind, values)


def test_a_type_decorator_keeps_its_own_processing() -> None:
    class Stamped(sa.types.TypeDecorator[dt.date]):
        impl = sa.Date
        cache_ok = True

        def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
            return None if value is None else value + dt.timedelta(days=1)

    values = [dt.date(2026, 3, 1), dt.date(1999, 12, 31)]
    assert _bound(Stamped(), values) == _processed(Stamped(), values) == ["2026-03-02", "2000-01-01"]


def test_only_sqlites_default_date_formats_take_the_fast_path() -> None:
    assert _fast_path(sa.Date(), DIALECT) is not None
    assert _fast_path(sa.DateTime(), DIALECT) is not None
    assert _fast_path(sqlite.DATE(), sqlite.dialect()) is not None
    assert _fast_path(sqlite.DATETIME(truncate_microseconds=True), DIALECT) is None
    assert _fast_path(sqlite.DATE(storage_format="%(year)04d%(month)02d%(day)02d"), DIALECT) is None
    assert _fast_path(sa.TIMESTAMP(), DIALECT) is None
    assert _fast_path(sa.Date(), sa.create_engine("postgresql+psycopg://").dialect) is None


def test_types_without_processing_are_sent_as_given() -> None:
    assert column_bind(sa.Integer(), DIALECT) is None
    assert column_bind(sa.String(20), DIALECT) is None


# --- the memo of texts ----------------------------------------------------------------------------


def test_the_memo_gives_the_conversion_of_every_value_in_order() -> None:
    calls: list[int] = []

    def convert(values: Sequence[dt.date]) -> list[str]:
        calls.append(len(values))
        return [value.isoformat() for value in values]

    memo = TextMemo(convert)
    first = [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 1)]
    assert memo(first) == ["2026-03-01", "2026-03-02", "2026-03-01"]
    assert memo([dt.date(2026, 3, 2), dt.date(2026, 3, 3)]) == ["2026-03-02", "2026-03-03"]
    assert calls == [2, 1]  # each distinct value converted once


def test_the_memo_steps_aside_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TextMemo, "LIMIT", 3)
    memo = TextMemo(lambda values: [str(v) for v in values])
    assert memo([1, 2]) == ["1", "2"]
    assert memo([3, 4, 5]) == ["3", "4", "5"]  # past the limit: converted as given
    assert memo([1, 6]) == ["1", "6"]


# --- the fingerprint ------------------------------------------------------------------------------


def _reference_digest(table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """The table digest by its definition: blake2b of the rows' canonical lines in primary-key
    order (a table without a key: in the order of the lines), each ended by ``\x1e``."""
    keyed = []
    for row in rows:
        given = dict(zip(columns, row, strict=True))
        line = "\x1f".join(canonical(given.get(column.key)) for column in table.columns)
        keyed.append((tuple(given[column.key] for column in table.primary_key.columns) or line, line))
    text = "".join(line + "\x1e" for _, line in sorted(keyed))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_built_rows_hash_as_the_definition_says() -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "things",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("note", sa.String(40)),
        sa.Column("ok", sa.Boolean),
        sa.Column("born", sa.Date),
        sa.Column("seen", sa.DateTime),
        sa.Column("at", sa.Time),
    )
    rng = random.Random(3)
    days, moments = _dates(50), _datetimes(50)
    rows = [
        (
            i,
            f"100% {i} %s",
            rng.choice([None, "x", "%(y)s"]),
            rng.choice([True, False, None]),
            rng.choice(days),
            rng.choice(moments),
            dt.time(i % 24, i % 60, 0, i),
        )
        for i in range(1, 400)
    ]
    columns = ("id", "name", "note", "ok", "born", "seen", "at")
    fingerprint = Fingerprint(metadata)
    fingerprint.add_built_rows("things", columns, rows[:200], DIALECT)
    fingerprint.add_built_rows("things", columns, rows[200:], DIALECT)  # the memos at work
    assert fingerprint.table_digests()["things"] == _reference_digest(table, columns, rows)
    partial = Fingerprint(metadata)
    partial.add_built_rows("things", ("id", "name"), [row[:2] for row in rows], DIALECT)  # nulls
    expected = _reference_digest(table, ("id", "name"), [row[:2] for row in rows])
    assert partial.table_digests()["things"] == expected


def test_digests_do_not_depend_on_the_order_rows_come_in(tmp_path: Any) -> None:
    """Built in key order, a table is hashed as built; a batch out of key order sends it to be
    read back; a table without a key is hashed sorted. Built, read back from a real SQLite file
    whose rows went in shuffled, or read whole by ``fingerprint_database``: the definition's
    digest for integer, string, composite and missing keys alike."""
    metadata = sa.MetaData()
    things = sa.Table(
        "things", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(20))
    )
    codes = sa.Table(
        "codes", metadata, sa.Column("code", sa.String(8), primary_key=True), sa.Column("n", sa.Integer)
    )
    pairs = sa.Table(
        "pairs",
        metadata,
        sa.Column("a", sa.Integer, primary_key=True),
        sa.Column("b", sa.String(8), primary_key=True),
        sa.Column("on", sa.Date),
    )
    tags = sa.Table("tags", metadata, sa.Column("thing", sa.Integer), sa.Column("tag", sa.String(8)))
    late = sa.Table(
        "late", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer)
    )
    rng = random.Random(11)
    rows = {
        "things": [(i, f"thing {i}") for i in range(1, 301)],
        "codes": [(f"c{i:03d}", i) for i in range(200)],  # strings ascend as written
        "pairs": [(a, b, dt.date(2026, 1, 1 + a)) for a in range(1, 20) for b in ("x", "y", "yy")],
        "tags": [(rng.randrange(9), rng.choice("abc")) for _ in range(150)],
        "late": [(i, i) for i in range(1, 201)],
    }
    built = Fingerprint(metadata)
    for table in (things, codes, pairs, tags, late):
        columns = tuple(column.key for column in table.columns)
        chunk = rows[table.key]
        halves = [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
        if table is late:
            halves.reverse()  # the second batch's keys come before the first's
        for half in halves:
            batch = Batch.from_columns(table.key, columns, [list(c) for c in zip(*half, strict=True)])
            assert batch.rows == [tuple(row) for row in half]
            built.add_built_rows(table.key, columns, batch.rows, DIALECT, batch.by_column)
    assert built.read_back_tables == {"late"}
    with pytest.raises(
        ScenarioError, match=r"one sequence per column \(2\), all of one length; got 2 of lengths 1, 2"
    ):
        Batch.from_columns("things", ("id", "name"), [[1], [2, 3]])
    engine = make_engine(f"sqlite:///{tmp_path / 'order.db'}")
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                shuffled = list(rows[table.key])
                rng.shuffle(shuffled)
                conn.execute(
                    table.insert(), [dict(zip(table.c.keys(), row, strict=True)) for row in shuffled]
                )
            built.read_back(conn)
            found = fingerprint_database(conn, metadata)
    finally:
        engine.dispose()
    for table in metadata.sorted_tables:
        expected = _reference_digest(table, tuple(table.c.keys()), rows[table.key])
        assert built.table_digests()[table.key] == found.table_digests()[table.key] == expected, table.key
    assert built.hexdigest() == found.hexdigest()
    assert (
        built.counts()
        == found.counts()
        == {name: len(found_rows) for name, found_rows in sorted(rows.items())}
    )


# --- election helpers -----------------------------------------------------------------------------


def test_national_ids_keep_their_luhn_digit() -> None:
    rng = random.Random(5)
    for n in [
        0,
        1,
        999,
        1000,
        10**9,
        10**10 - 1,
        10**10,
        10**12 + 5,
        *(rng.randrange(10**10) for _ in range(5000)),
    ]:
        body = f"{n:010d}"
        assert national_id(n) == body + luhn_digit(body)


def test_days_before_is_the_timedelta_subtraction() -> None:
    day = dt.date(2026, 3, 1)
    for days in (0, 1, 6575, 32850, day.toordinal() - 1):
        assert days_before(day, days) == day - dt.timedelta(days=days)
    moment = dt.datetime(2026, 3, 1, 8, 30)
    assert days_before(moment, 3) == moment - dt.timedelta(days=3)  # a datetime stays one
    with pytest.raises(OverflowError):
        days_before(day, day.toordinal())


def test_spread_times_shares_equal_moments_and_keeps_them() -> None:
    start, end = dt.datetime(2026, 3, 1, 8), dt.datetime(2026, 3, 1, 8, 1)
    times = spread_times(random.Random(4), 1000, start, end, [1, 2])
    assert len(set(times)) <= 60 and times == sorted(times)
    rng = random.Random(4)
    picks = rng.choices(range(2), cum_weights=[1.0, 3.0], k=1000)
    offsets = sorted(min(int(s * 30.0 + rng.random() * 30.0), 59) for s in picks)
    assert times == [start + dt.timedelta(seconds=s) for s in offsets]


# --- the garbage collector ------------------------------------------------------------------------


def test_the_paced_collector_restores_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    with _PacedGc() as paced:
        assert not gc.isenabled()
        paced.wrote(_PacedGc.EVERY + 1)  # collects the young generations, stays paused
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _PacedGc():
            pass
        assert not gc.isenabled()  # it was off: left off
    finally:
        gc.enable()
