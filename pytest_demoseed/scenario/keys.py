"""Which tables have the one shape of key the builder assigns itself: light (SQLAlchemy only),
for the fingerprint and the snapshot key as much as for the phases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["integer_primary_key"]


def integer_primary_key(table: sa.Table) -> sa.Column[Any] | None:
    """The table's primary key column if it is one integer column, else None.

    The one shape of key the builder assigns itself (and so the one whose sequences, factory
    sequences and allocations follow the rows already there).
    """
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, sa.Integer):
        return keys[0]
    return None
