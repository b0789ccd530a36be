"""The build's writers on each backend: no statement per row (MariaDB multi-row INSERT,
PostgreSQL COPY, SQLite executemany), rows that read back through SQLAlchemy unchanged, and the
indexes set aside while empty tables load."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pymysql.cursors
import pytest
import sqlalchemy as sa
from models import PEOPLE, PEOPLE_METADATA
from servers import Server, mariadb_server, server  # noqa: F401  (the fixtures)

from pytest_demoseed import PhaseContext, Scenario, ScenarioError, phase
from pytest_demoseed.build.builder import build
from pytest_demoseed.build.writers import writer_for
from pytest_demoseed.scenario.declare import Batch
from pytest_demoseed.scenario.spec import resolve_spec
from pytest_demoseed.settings_kinds import boolean
from pytest_demoseed.storage.engines import make_engine

COLUMNS = ("id", "name", "born", "score", "active", "seen")
#: Values a literal writer could get wrong: quotes, backslashes, control characters, %, Unicode, NULL
#: (no NUL character: PostgreSQL text cannot hold one).
TRICKY = [
    "O'Brien",
    'say "hi"',
    "back\\slash",
    "new\nline\r\ttab",
    "ctrl\x1az",
    "100% %s %(x)s",
    "Zoë Ñúñez 🗳",
    "",
    None,
    "'; DROP TABLE people; --",
]
ROWS = [
    (
        i,
        TRICKY[i % len(TRICKY)] if i <= 50 else f"Name {i}",
        dt.date(1900, 1, 1) + dt.timedelta(days=i * 7),
        i / 4,
        i % 3 == 0,
        None if i % 2 else dt.datetime(2026, 3, 1, 8, 30, i % 60),
    )
    for i in range(1, 5001)
]
EXPECTED = {"sqlite": "SQLiteWriter", "postgresql": "CopyWriter", "mariadb": "MultiRowInsertWriter"}


def test_the_mysql_insert_has_the_shape_pymysql_rewrites_into_multi_row_statements() -> None:
    """PyMySQL's ``executemany`` sends one multi-row INSERT per ~1 MB only when the SQL matches
    its ``RE_INSERT_VALUES``; otherwise it runs one statement per row."""
    from types import SimpleNamespace

    from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql

    conn = SimpleNamespace(dialect=MySQLDialect_pymysql())  # preparing reads only the dialect
    writer = writer_for(conn, PEOPLE_METADATA)  # type: ignore[arg-type]
    shape = writer._shape("people", ("id", "name", "born", "score"))
    (part,) = shape.parts([(1, "Ann", None, None)])
    sql = writer._prepare(shape.table, part).sql
    assert sql == "INSERT INTO people (id, name, born, score) VALUES (%s, %s, %s, %s)"
    assert pymysql.cursors.RE_INSERT_VALUES.match(sql)


def statements(conn: sa.Connection) -> int:
    """Statements this MariaDB session has run that inserted (multi-row ones count once)."""
    return int(conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_insert'").one()[1])


def write_and_read_back(server: Server, sql_mode: str = "") -> None:  # noqa: F811
    if server.is_server:
        server.create(server.name, None)
    engine = make_engine(server.url)
    try:
        PEOPLE_METADATA.create_all(engine)
        with engine.begin() as conn:
            if sql_mode:
                conn.exec_driver_sql(f"SET SESSION sql_mode = CONCAT(@@sql_mode, ',{sql_mode}')")
            writer = writer_for(conn, PEOPLE_METADATA)
            assert type(writer).__name__ == EXPECTED[server.kind]
            before = statements(conn) if server.kind == "mariadb" else 0
            for start in range(0, len(ROWS), 2500):
                writer.write(Batch("people", COLUMNS, ROWS[start : start + 2500]))
            if server.kind == "mariadb":
                assert statements(conn) - before <= 4  # 5,000 rows in a few multi-row INSERTs
        with engine.connect() as conn:
            back = conn.execute(sa.select(PEOPLE).order_by(PEOPLE.c.id)).all()
        assert [tuple(row) for row in back] == ROWS
    finally:
        engine.dispose()


def test_writers_make_few_statements_and_rows_read_back_unchanged(server: Server) -> None:  # noqa: F811
    write_and_read_back(server)


def test_mariadb_without_backslash_escapes_still_reads_back_unchanged(
    mariadb_server: Server,  # noqa: F811
) -> None:
    write_and_read_back(mariadb_server, "NO_BACKSLASH_ESCAPES")


def _index_definitions(conn: sa.Connection) -> dict[str, str]:
    """Every index the database has made by ``CREATE INDEX`` or for a constraint, by name, as
    the database itself describes it."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name, COALESCE(sql, tbl_name) FROM sqlite_master WHERE type = 'index'"
    elif conn.dialect.name == "postgresql":
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        sql = (
            "SELECT CONCAT(table_name, '.', index_name),"
            " GROUP_CONCAT(column_name, ':', non_unique ORDER BY seq_in_index)"
            " FROM information_schema.statistics WHERE table_schema = DATABASE()"
            " GROUP BY table_name, index_name"
        )
    return dict(conn.exec_driver_sql(sql).all())


def test_plain_indexes_of_empty_tables_wait_for_the_load_and_come_back_as_they_were(
    server: Server,  # noqa: F811
) -> None:
    """During a build the plain indexes of the tables it finds empty are gone (SQLite and
    PostgreSQL; MariaDB commits DDL, so keeps them); unique ones, and those of a table holding
    rows, stay. After it, and after a build that fails half-way, every index is as it was,
    partial ones included."""
    if server.is_server:
        server.create(server.name, None)
    metadata = sa.MetaData()
    notes = sa.Table(
        "notes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10)),
        sa.Column("body", sa.String(40)),
    )
    sa.Index("ix_notes_kind", notes.c.kind)
    sa.Index("ix_notes_body_kind", notes.c.body, notes.c.kind, unique=True)
    short = sa.text("kind <> 'x'")
    sa.Index("ix_notes_short", notes.c.body, sqlite_where=short, postgresql_where=short)
    kept = sa.Table(
        "kept",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tag", sa.String(10), index=True),
    )
    seen: list[set[str]] = []

    @phase("notes", tables=("notes", "kept"), settings={"fail": boolean(False, "stop half-way")})
    def make(ctx: PhaseContext) -> Any:
        ids = ctx.allocate("notes", 200)
        yield Batch("notes", ("id", "kind", "body"), [(i, "ab"[i % 2], f"note {i}") for i in ids])
        seen.append(set(_index_definitions(ctx.conn)))
        if ctx["fail"]:
            raise ScenarioError("stopped half-way")
        yield Batch("kept", ("id", "tag"), [(i, "t") for i in ctx.allocate("kept", 10)])

    scenario = Scenario(name="notes", description="indexes", metadata=metadata, phases=(make,))
    engine = make_engine(server.url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(kept.insert(), {"id": 1, "tag": "old"})
            before = _index_definitions(conn)
        names = {name.split(".")[-1] for name in before}  # MariaDB's are table.index
        assert {"ix_notes_kind", "ix_notes_body_kind", "ix_notes_short", "ix_kept_tag"} <= names
        with pytest.raises(ScenarioError, match="stopped half-way"):
            build(engine, resolve_spec(scenario, seed=1, overrides={"notes": {"fail": True}}))
        with engine.connect() as conn:
            assert _index_definitions(conn) == before
            assert conn.execute(sa.select(sa.func.count()).select_from(notes)).scalar() == 0
        dataset = build(engine, resolve_spec(scenario, seed=1))
        with engine.connect() as conn:
            assert _index_definitions(conn) == before
            assert conn.execute(sa.select(sa.func.count()).select_from(notes)).scalar() == 200
    finally:
        engine.dispose()
    assert dataset.counts == {"kept": 10, "notes": 200}
    set_aside = {"ix_notes_kind", "ix_notes_short"} if server.kind != "mariadb" else set()
    for during in seen:
        assert during == set(before) - set_aside, server.kind
