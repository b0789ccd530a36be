"""The schema as DDL text (what a snapshot key hashes, so a changed model never reuses a snapshot),
and the extra schema a run names by its import path.

The check that a database matches the models before a build writes is the builder's
(:mod:`pytest_demoseed.build.schema_check`).
"""

from __future__ import annotations

import pkgutil
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from pytest_demoseed.errors import ScenarioError

__all__ = ["load_metadata", "schema_ddl"]


def load_metadata(path: str) -> sa.MetaData:
    """``package.module:Base.metadata`` -> the MetaData object (ini ``demo_metadata``, the
    command's ``--metadata``), or a ScenarioError naming ``path``: each caller says where it was given."""
    try:
        target: Any = pkgutil.resolve_name(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ScenarioError(f"{path}: cannot load it ({exc})") from None
    if not isinstance(target, sa.MetaData):
        raise ScenarioError(f"{path} is a {type(target).__name__}, not a MetaData")
    return target


def schema_ddl(metadata: sa.MetaData, dialect: sa.Dialect) -> str:
    """The CREATE statements for ``metadata`` on ``dialect``, in dependency order."""
    parts = []
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return ";\n".join(parts)
