"""Batched writers per dialect: executemany on SQLite, COPY on PostgreSQL, multi-row INSERT on MySQL.

Writers go to the DB-API cursor of the build's connection, inside its transaction: no ORM, no
RETURNING, no round trip per row. Values pass through each column type's bind processor, so a
row written here reads back through SQLAlchemy exactly as if the ORM had written it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .scenario import Batch, ScenarioError

__all__ = ["BatchWriter", "writer_for"]

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Prepared:
    sql: str
    processors: tuple[tuple[int, Processor], ...]
    copy_sql: str


class BatchWriter:
    """Writes batches for one connection; prepares each (table, columns) shape once."""

    uses_copy = False

    def __init__(self, conn: sa.Connection, metadata: sa.MetaData) -> None:
        self.conn = conn
        self.metadata = metadata
        self.dialect = conn.dialect
        self._prepared: dict[tuple[str, tuple[str, ...]], _Prepared] = {}
        self.rows_written = 0

    def _prepare(self, table_name: str, columns: tuple[str, ...]) -> _Prepared:
        key = (table_name, columns)
        found = self._prepared.get(key)
        if found is not None:
            return found
        try:
            table = self.metadata.tables[table_name]
        except KeyError:
            raise ScenarioError(f"a phase wrote to unknown table {table_name!r}") from None
        quote = self.dialect.identifier_preparer
        missing = [c for c in columns if c not in table.c]
        if missing:
            raise ScenarioError(f"table {table_name!r} has no column {missing[0]!r}")
        names = ", ".join(quote.quote(c) for c in columns)
        marker = "?" if self.dialect.paramstyle in ("qmark", "numeric") else "%s"
        full_name = quote.format_table(table)
        sql = f"INSERT INTO {full_name} ({names}) VALUES ({', '.join([marker] * len(columns))})"
        processors = []
        for index, name in enumerate(columns):
            processor = table.c[name].type._cached_bind_processor(self.dialect)
            if processor is not None:
                processors.append((index, processor))
        prepared = _Prepared(sql, tuple(processors), f"COPY {full_name} ({names}) FROM STDIN")
        self._prepared[key] = prepared
        return prepared

    @staticmethod
    def _process(rows: Sequence[tuple[Any, ...]], prepared: _Prepared) -> Sequence[Sequence[Any]]:
        if not prepared.processors:
            return rows
        out = []
        procs = prepared.processors
        for row in rows:
            values = list(row)
            for index, proc in procs:
                value = values[index]
                if value is not None:
                    values[index] = proc(value)
            out.append(values)
        return out

    def write(self, batch: Batch) -> None:
        if not batch.rows:
            return
        prepared = self._prepare(batch.table, batch.columns)
        self._write(prepared, self._process(batch.rows, prepared))
        self.rows_written += len(batch.rows)

    def _write(self, prepared: _Prepared, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(prepared.sql, rows)
        finally:
            cursor.close()


class CopyWriter(BatchWriter):
    """PostgreSQL through psycopg 3: ``COPY ... FROM STDIN``, rows streamed, no parsing of SQL."""

    uses_copy = True

    def _write(self, prepared: _Prepared, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(prepared.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()


def writer_for(conn: sa.Connection, metadata: sa.MetaData) -> BatchWriter:
    """The fastest correct writer for this connection's driver."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return CopyWriter(conn, metadata)
    return BatchWriter(conn, metadata)
