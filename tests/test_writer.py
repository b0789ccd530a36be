"""The build's writers on each backend: no statement per row (MariaDB multi-row INSERT,
PostgreSQL COPY, SQLite executemany), and rows that read back through SQLAlchemy unchanged."""

from __future__ import annotations

import datetime as dt

import pymysql.cursors
import sqlalchemy as sa
from models import PEOPLE, PEOPLE_METADATA
from servers import Server, mariadb_server, server  # noqa: F401  (the fixtures)

from pytest_demoseed.build.writers import writer_for
from pytest_demoseed.scenario.declare import Batch
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
