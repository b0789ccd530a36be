"""The build's writers on each backend: no statement per row (MariaDB multi-row INSERT,
PostgreSQL COPY, SQLite executemany), and rows that read back through SQLAlchemy unchanged."""

from __future__ import annotations

import datetime as dt

import pymysql.cursors
import sqlalchemy as sa
from servers import Server, server  # noqa: F401  (the fixture)

from pytest_demoseed.engines import make_engine
from pytest_demoseed.scenario import Batch
from pytest_demoseed.write import CopyWriter, writer_for

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40)),
    sa.Column("born", sa.Date),
    sa.Column("score", sa.Float),
)
ROWS = [(i, f"Name {i}", dt.date(1980, 1, 1) + dt.timedelta(days=i), i / 4) for i in range(1, 5001)]


def test_the_mysql_insert_has_the_shape_pymysql_rewrites_into_multi_row_statements() -> None:
    """PyMySQL's ``executemany`` sends one multi-row INSERT per ~1 MB only when the SQL matches
    its ``RE_INSERT_VALUES``; otherwise it runs one statement per row."""
    from types import SimpleNamespace

    from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql

    conn = SimpleNamespace(dialect=MySQLDialect_pymysql())  # preparing reads only the dialect
    sql = writer_for(conn, metadata)._prepare("people", ("id", "name", "born", "score")).sql  # type: ignore[arg-type]
    assert sql == "INSERT INTO people (id, name, born, score) VALUES (%s, %s, %s, %s)"
    assert pymysql.cursors.RE_INSERT_VALUES.match(sql)


def statements(conn: sa.Connection) -> int:
    """Statements this MariaDB session has run that inserted (multi-row ones count once)."""
    return int(conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_insert'").one()[1])


def test_writers_make_few_statements_and_rows_read_back_unchanged(server: Server) -> None:  # noqa: F811
    if server.is_server:
        server.create(server.name, None)
    engine = make_engine(server.url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            writer = writer_for(conn, metadata)
            before = statements(conn) if server.kind == "mariadb" else 0
            for start in range(0, len(ROWS), 2500):
                writer.write(Batch("people", ("id", "name", "born", "score"), ROWS[start : start + 2500]))
            if server.kind == "mariadb":
                assert statements(conn) - before <= 4  # 5,000 rows in a few multi-row INSERTs
            assert isinstance(writer, CopyWriter) == (server.kind == "postgresql")
        with engine.connect() as conn:
            back = conn.execute(sa.select(people).order_by(people.c.id)).all()
        assert [tuple(row) for row in back] == ROWS
    finally:
        engine.dispose()
