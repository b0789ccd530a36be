"""The schema as DDL text: what a snapshot key hashes, so a changed model never reuses a snapshot.

The check that a database matches the models before a build writes is the builder's
(:mod:`pytest_demoseed.build.schema_check`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

__all__ = ["schema_ddl"]


def schema_ddl(metadata: sa.MetaData, dialect: sa.Dialect) -> str:
    """The CREATE statements for ``metadata`` on ``dialect``, in dependency order."""
    parts = []
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return ";\n".join(parts)
