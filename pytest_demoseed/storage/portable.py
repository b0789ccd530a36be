"""Portable snapshots: a server database's tables as files another machine can load fast.

A snapshot on a server (a PostgreSQL template, a MariaDB database) stays on that server; a CI
job on another machine starts with an empty one. With a cache directory, the snapshot is also
written there, one file per table in the database's own bulk format, and a later run with no
snapshot on its server loads the files instead of building:

* PostgreSQL: ``COPY ... TO STDOUT (FORMAT binary)`` per table, loaded with ``COPY ... FROM
  STDIN (FORMAT binary)``, streamed in both directions; sequences are then moved past the keys,
  as after a build;
* MariaDB/MySQL: multi-row ``INSERT`` statements of up to ~1 MB, each value written by the
  driver's own escaping (what ``mysqldump`` writes), loaded with foreign key and unique checks
  off, as one transaction per table.

The schema comes from the same place as for a build (the metadata or the migrations); only rows
travel. Each file's size and content digest go into the snapshot's sidecar
(:mod:`pytest_demoseed.storage.integrity` checks them before a file is used).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.build.writers import PostgresWriter
from pytest_demoseed.storage.integrity import FileRecord

__all__ = ["FORMATS", "dump_tables", "load_tables", "portable_format"]

#: The bulk format per dialect (written into the sidecar; a different one is never loaded).
FORMATS = {"postgresql": "postgresql-copy-binary-1", "mysql": "mysql-insert-1", "mariadb": "mysql-insert-1"}
#: Read and write in chunks of this many bytes: memory stays flat whatever the table's size.
CHUNK = 1 << 20
#: Loads of at least this many bytes set indexes and foreign keys aside and make them afterwards.
SET_ASIDE_BYTES = 4 << 20
#: The largest INSERT statement written (MariaDB's smallest default max_allowed_packet is 16 MiB).
STATEMENT_BYTES = 1 << 20


def portable_format(dialect_name: str) -> str | None:
    """The bulk format for this dialect, or None (SQLite: its snapshot file is already portable)."""
    return FORMATS.get(dialect_name)


@dataclass
class _Digesting:
    """A binary file being written, with its size and digest kept as it grows."""

    handle: Any
    size: int = 0

    def __post_init__(self) -> None:
        self.digest = hashlib.blake2b(digest_size=16)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)


def _file_name(index: int, table: sa.Table, dialect: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in table.key)
    return f"{index:03d}_{safe}.{'copy' if dialect == 'postgresql' else 'sql'}"


def dump_tables(engine: sa.Engine, tables: Sequence[sa.Table], directory: Path) -> list[FileRecord]:
    """Write ``tables`` (in dependency order) to ``directory`` in the dialect's bulk format."""
    directory.mkdir(parents=True, exist_ok=True)
    dialect = engine.dialect.name
    records = []
    with engine.connect() as conn:
        for index, table in enumerate(tables):
            name = _file_name(index, table, dialect)
            with open(directory / name, "wb") as handle:
                out = _Digesting(handle)
                if dialect == "postgresql":
                    rows = _dump_copy(conn, table, out)
                else:
                    rows = _dump_inserts(conn, table, out)
            records.append(
                FileRecord(
                    name=name, size=out.size, digest=out.digest.hexdigest(), table=table.key, rows=rows
                )
            )
        conn.rollback()
    return records


def load_tables(
    engine: sa.Engine, tables: Sequence[sa.Table], directory: Path, records: Sequence[FileRecord]
) -> None:
    """Load files written by :func:`dump_tables` into ``engine``'s database, which has the schema:
    rows already in ``tables`` (a data migration's) are deleted first. In one transaction on
    PostgreSQL, table by table on MariaDB."""
    dialect = engine.dialect.name
    by_key = {table.key: table for table in tables}
    # setting indexes and foreign keys aside pays off only for a bulk load: for a few rows the
    # DDL (a statement per index and key, twice) costs more than keeping them
    bulk = sum(record.size for record in records) >= SET_ASIDE_BYTES
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(sa.delete(table))
    with engine.connect() as conn:
        if dialect == "postgresql":
            with conn.begin():
                recreate = _set_aside_postgres(conn) if bulk else []
                for record in records:
                    _load_copy(conn, by_key[record.table], directory / record.name)
                for statement in recreate:
                    conn.exec_driver_sql(statement)
                for metadata in {id(t.metadata): t.metadata for t in tables}.values():
                    PostgresWriter(conn, metadata).finish()  # sequences past the keys, as after a build
        else:
            raw: Any = conn.connection.dbapi_connection
            cursor = raw.cursor()
            try:
                cursor.execute("SET FOREIGN_KEY_CHECKS=0, UNIQUE_CHECKS=0")
                recreate = _set_aside_mysql(cursor, [by_key[r.table] for r in records]) if bulk else []
                for record in records:
                    for statement in _statements(directory / record.name):
                        cursor.execute(statement)
                    raw.commit()
                for statement in recreate:
                    cursor.execute(statement)
            finally:
                cursor.execute("SET FOREIGN_KEY_CHECKS=1, UNIQUE_CHECKS=1")
                cursor.close()


# --- PostgreSQL ----------------------------------------------------------------------------------


def _columns(conn: sa.Connection, table: sa.Table) -> str:
    quote = conn.dialect.identifier_preparer
    return ", ".join(quote.quote(column.name) for column in table.columns)


def _set_aside_postgres(conn: sa.Connection) -> list[str]:
    """Drop the foreign keys and plain indexes of the database's tables; return the statements
    that make them again. Loading into bare tables and indexing once is several times faster
    than keeping indexes and checking every row's keys as it comes; it is all in one
    transaction, so a failed load leaves nothing half done."""
    foreign_keys = conn.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace NOT IN ('pg_catalog'::regnamespace, "
        "'information_schema'::regnamespace) ORDER BY 1, 2"
    ).all()
    indexes = conn.exec_driver_sql(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace NOT IN "
        "('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1"
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    for table, name, _ in foreign_keys:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    for name, _ in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
        for table, name, definition in foreign_keys
    ]


def _dump_copy(conn: sa.Connection, table: sa.Table, out: _Digesting) -> int:
    quote = conn.dialect.identifier_preparer
    sql = f"COPY {quote.format_table(table)} ({_columns(conn, table)}) TO STDOUT (FORMAT binary)"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for data in copy:
                out.write(data)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _load_copy(conn: sa.Connection, table: sa.Table, path: Path) -> None:
    quote = conn.dialect.identifier_preparer
    sql = f"COPY {quote.format_table(table)} ({_columns(conn, table)}) FROM STDIN (FORMAT binary)"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy, open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                copy.write(chunk)
    finally:
        cursor.close()


# --- MariaDB / MySQL -------------------------------------------------------------------------------


def _set_aside_mysql(cursor: Any, tables: list[sa.Table]) -> list[str]:
    """Drop the tables' foreign keys and secondary indexes; return the statements that make
    them again (all of a table's indexes in one ALTER, built by sorting once). Foreign keys come
    back with checks off, as the rows were checked when the snapshot was built."""
    names = tuple(table.name for table in tables)
    marks = ", ".join(["%s"] * len(names))
    cursor.execute(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
        "k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
        "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
        f"WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME IN ({marks}) "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        names,
    )
    foreign: dict[tuple[str, str], list[Any]] = {}
    for table, name, column, ref_table, ref_column, on_update, on_delete in cursor.fetchall():
        entry = foreign.setdefault((table, name), [[], ref_table, [], on_update, on_delete])
        entry[0].append(column)
        entry[2].append(ref_column)
    cursor.execute(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks}) AND INDEX_NAME <> 'PRIMARY' "
        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        names,
    )
    indexes: dict[tuple[str, str], list[Any]] = {}
    for table, name, non_unique, column, sub_part in cursor.fetchall():
        part = f"`{column}`" + (f"({sub_part})" if sub_part else "")
        indexes.setdefault((table, name), [not int(non_unique), []])[1].append(part)
    for (table, name), _ in foreign.items():
        cursor.execute(f"ALTER TABLE `{table}` DROP FOREIGN KEY `{name}`")
    by_table: dict[str, list[str]] = {}
    for (table, name), (unique, parts) in indexes.items():
        cursor.execute(f"ALTER TABLE `{table}` DROP INDEX `{name}`")
        kind = "UNIQUE INDEX" if unique else "INDEX"
        by_table.setdefault(table, []).append(f"ADD {kind} `{name}` ({', '.join(parts)})")
    statements = [f"ALTER TABLE `{table}` {', '.join(adds)}" for table, adds in sorted(by_table.items())]
    for (table, name), (columns, ref_table, ref_columns, on_update, on_delete) in foreign.items():
        events = (("UPDATE", on_update), ("DELETE", on_delete))
        rules = "".join(f" ON {event} {rule}" for event, rule in events if rule != "RESTRICT")
        local = ", ".join(f"`{c}`" for c in columns)
        remote = ", ".join(f"`{c}`" for c in ref_columns)
        statements.append(
            f"ALTER TABLE `{table}` ADD CONSTRAINT `{name}` FOREIGN KEY ({local}) "
            f"REFERENCES `{ref_table}` ({remote}){rules}"
        )
    return statements


def _literal_sql(conn: sa.Connection, column: sa.Column[Any]) -> str:
    """SQL that makes the server write ``column``'s value as an SQL literal: ``QUOTE()`` (``NULL``
    for NULL), with line breaks escaped so each statement stays on one line; binary values as
    ``X'..'`` hex literals, which no character set can garble."""
    name = conn.dialect.identifier_preparer.quote(column.name)
    if isinstance(column.type, (sa.LargeBinary, sa.PickleType)):
        return f"IF({name} IS NULL, 'NULL', CONCAT('X''', HEX({name}), ''''))"
    return rf"REPLACE(REPLACE(QUOTE({name}), CHAR(10), '\\n'), CHAR(13), '\\r')"


def _dump_inserts(conn: sa.Connection, table: sa.Table, out: _Digesting) -> int:
    """One ``INSERT ... VALUES (...), (...);`` per ~1 MB, a statement per line. The server
    writes each row's literals (what ``mysqldump`` does): the client only joins them, several
    times faster than escaping each value in Python."""
    raw: Any = conn.connection.dbapi_connection
    quote = conn.dialect.identifier_preparer
    head = f"INSERT INTO {quote.format_table(table)} ({_columns(conn, table)}) VALUES ".encode()
    literals = ", ',', ".join(_literal_sql(conn, column) for column in table.columns)
    rows = 0
    cursor = raw.cursor(_unbuffered_cursor())
    try:
        cursor.execute(f"SELECT CONCAT('(', {literals}, ')') FROM {quote.format_table(table)}")
        chunk: list[bytes] = []
        size = len(head)
        for (text,) in cursor:  # bytes when a binary column makes the row's text binary
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            if chunk and size + len(data) + 2 > STATEMENT_BYTES:
                out.write(head + b",".join(chunk) + b";\n")
                chunk, size = [], len(head)
            chunk.append(data)
            size += len(data) + 1
            rows += 1
        if chunk:
            out.write(head + b",".join(chunk) + b";\n")
    finally:
        cursor.close()
    return rows


def _unbuffered_cursor() -> Any:
    # PyMySQL is an optional driver (pip extra): imported only when a MariaDB snapshot is dumped.
    from pymysql.cursors import SSCursor  # type: ignore[import-untyped]

    return SSCursor


def _statements(path: Path) -> Iterator[str]:
    """The statements of a dump file, one per line (escaped values hold no raw newline)."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield line.decode("utf-8").rstrip("\n").rstrip(";")
