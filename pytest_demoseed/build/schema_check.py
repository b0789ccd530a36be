"""The check before any write: the database has every table and column the models declare.

It lives with the builder, its first user, so the builder imports nothing of ``storage`` (which
sits above it: the snapshot flow calls the builder). ``seed``'s ``clear`` and
``database_fingerprint`` use it too before they touch rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from pytest_demoseed.errors import SchemaMismatch

__all__ = ["check_schema"]


def check_schema(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """Every table and column of ``metadata`` exists in the database, or SchemaMismatch."""
    inspector = sa.inspect(conn)
    schemas = sorted({t.schema for t in metadata.sorted_tables}, key=lambda s: s or "")
    existing = {(schema, name) for schema in schemas for name in inspector.get_table_names(schema=schema)}
    missing = [t.fullname for t in metadata.sorted_tables if (t.schema, t.name) not in existing]
    if missing:
        raise SchemaMismatch(
            f"the database has no table {', '.join(missing)}; create the schema first "
            "(demoseed seed --create-schema, or metadata.create_all)"
        )
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
        absent = [c.name for c in table.columns if c.name not in columns]
        if absent:
            raise SchemaMismatch(
                f"table {table.fullname!r} in the database lacks column(s) {', '.join(absent)}: "
                "the schema does not match the models"
            )
