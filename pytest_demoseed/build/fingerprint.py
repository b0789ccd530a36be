"""Content fingerprints: one hash over every row of every table, equal on every backend.

Each row becomes one line of canonical text (see ``determinism.canonical``) in the table's column
order; a table's digest is the sum, modulo 2**128, of its rows' blake2b digests, so it does not
depend on the order rows are read in (rows are distinct because each has its primary key). The
fingerprint hashes the sorted ``table:rows:digest`` lines. The same function serves the builder
(fed the rows it writes) and ``fingerprint_database`` (fed the rows read back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.generate.determinism import canonical

__all__ = ["Fingerprint", "fingerprint_database"]

_MOD = 1 << 128


def _converter(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return lambda v: "null" if v is None else ("true" if v else "false")
    if isinstance(kind, (sa.Integer, sa.String)) and not column.nullable:
        return str
    return canonical


class Fingerprint:
    """Accumulates per-table digests of rows for the tables of ``metadata``."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self._sums: dict[str, int] = {name: 0 for name in metadata.tables}
        self._counts: dict[str, int] = {name: 0 for name in metadata.tables}
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[list[int | None], list[Any]]] = {}

    def _plan(self, table_name: str, columns: tuple[str, ...]) -> tuple[list[int | None], list[Any]]:
        key = (table_name, columns)
        plan = self._plans.get(key)
        if plan is None:
            table = self.metadata.tables[table_name]
            positions = {name: i for i, name in enumerate(columns)}
            order = [positions.get(col.name) for col in table.columns]
            converters = [_converter(col) for col in table.columns]
            plan = (order, converters)
            self._plans[key] = plan
        return plan

    def add_rows(self, table_name: str, columns: tuple[str, ...], rows: Iterable[Sequence[Any]]) -> None:
        order, converters = self._plan(table_name, columns)
        blake = hashlib.blake2b
        total = self._sums[table_name]
        count = 0
        identity = order == list(range(len(order)))
        for row in rows:
            if identity:
                text = "\x1f".join([conv(v) for conv, v in zip(converters, row, strict=True)])
            else:
                pairs = zip(converters, order, strict=True)
                text = "\x1f".join([conv(None if pos is None else row[pos]) for conv, pos in pairs])
            total += int.from_bytes(blake(text.encode(), digest_size=16).digest(), "big")
            count += 1
        self._sums[table_name] = total % _MOD
        self._counts[table_name] += count

    def table_digests(self) -> dict[str, str]:
        return {name: f"{self._sums[name]:032x}" for name in sorted(self._sums)}

    def counts(self) -> dict[str, int]:
        return {name: self._counts[name] for name in sorted(self._counts)}

    def hexdigest(self) -> str:
        lines = [f"{name}:{self._counts[name]}:{self._sums[name]:032x}" for name in sorted(self._sums)]
        return hashlib.blake2b("\n".join(lines).encode(), digest_size=16).hexdigest()


def fingerprint_database(conn: sa.Connection, metadata: sa.MetaData) -> Fingerprint:
    """Read every row of ``metadata``'s tables back and fingerprint them.

    Rows are streamed per statement (``yield_per`` on the select): setting it on ``conn`` would
    change the caller's connection in place, and on a test's connection the next SAVEPOINT or
    ROLLBACK would then fail on PostgreSQL.
    """
    result = Fingerprint(metadata)
    for table in metadata.sorted_tables:
        columns = tuple(col.name for col in table.columns)
        rows = conn.execute(sa.select(*table.columns).execution_options(yield_per=5000))
        result.add_rows(table.name, columns, (tuple(r) for r in rows))
    return result
