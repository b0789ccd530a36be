"""Schema checks and DDL: a database whose tables do not match the models is a clear error."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from pytest_demoseed.errors import SchemaMismatch

__all__ = ["SchemaMismatch", "check_schema", "create_schema", "schema_ddl", "schema_hash"]


def check_schema(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """Every table and column of ``metadata`` exists in the database, or SchemaMismatch."""
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names())
    missing = [t.name for t in metadata.sorted_tables if t.name not in existing]
    if missing:
        raise SchemaMismatch(
            f"the database has no table {', '.join(missing)}; create the schema first "
            "(demoseed seed --create-schema, or metadata.create_all)"
        )
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        absent = [c.name for c in table.columns if c.name not in columns]
        if absent:
            raise SchemaMismatch(
                f"table {table.name!r} in the database lacks column(s) {', '.join(absent)}: "
                "the schema does not match the models"
            )


def create_schema(engine: sa.Engine | sa.Connection, metadata: sa.MetaData) -> None:
    metadata.create_all(engine)


def schema_ddl(metadata: sa.MetaData, dialect: sa.Dialect) -> str:
    """The CREATE statements for ``metadata`` on ``dialect``, in dependency order."""
    parts = []
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return ";\n".join(parts)


def schema_hash(metadata: sa.MetaData, dialect: sa.Dialect) -> str:
    return hashlib.blake2b(schema_ddl(metadata, dialect).encode(), digest_size=12).hexdigest()
