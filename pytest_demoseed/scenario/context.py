"""What a phase sees while it runs: its settings, its seeded streams, ids, and shared results."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from faker import Faker

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.scenario.keys import integer_primary_key

__all__ = ["IdAllocator", "PhaseContext", "integer_primary_key"]


class IdAllocator:
    """Hands out primary keys per table, starting past the highest one already there.

    Keys are the builder's, not the database's, so a fresh database gets the same keys on every
    backend, and phases know their foreign keys without reading rows back.
    """

    def __init__(self, conn: sa.Connection, metadata: sa.MetaData) -> None:
        self._conn = conn
        self._metadata = metadata
        self._next: dict[str, int] = {}
        #: Per table, the first key handed out: the rows below it were there before the build.
        self.first: dict[str, int] = {}

    def _pk(self, table_name: str) -> sa.Column[Any]:
        key = integer_primary_key(self._metadata.tables[table_name])
        if key is None:
            raise ScenarioError(
                f"table {table_name!r} has no single integer primary key to allocate: make its keys "
                "in the phase and give them as ids= (one column) or in fixed= (a composite key)"
            )
        return key

    def allocate(self, table_name: str, count: int) -> range:
        if table_name not in self._next:
            column = self._pk(table_name)
            highest = self._conn.execute(sa.select(sa.func.max(column))).scalar()
            self._next[table_name] = self.first[table_name] = int(highest or 0) + 1
        start = self._next[table_name]
        self._next[table_name] = start + count
        return range(start, start + count)


@dataclass
class PhaseContext:
    """Handed to a phase's generator. Draw every random value from ``rng`` or ``faker``."""

    conn: sa.Connection
    phase: str
    settings: Mapping[str, Any]
    seed: int
    rng: random.Random
    faker: Faker
    clock: dt.datetime
    metadata: sa.MetaData
    shared: dict[str, Any]
    ids: IdAllocator
    _progress: Callable[[str, Mapping[str, Any]], None] = field(repr=False)
    fallbacks: list[str] = field(default_factory=list, repr=False)
    #: Per table, the next factory sequence number no row of this build has used (shared by
    #: every phase): the tests' factories start there, so ``Sequence``-made values never collide.
    sequences: dict[str, int] = field(default_factory=dict, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]

    def allocate(self, table_name: str, count: int) -> range:
        """``count`` fresh primary keys for ``table_name``, past the highest one already there.

        Only a table whose primary key is one integer column gets keys here (a ``range``, the
        same on every backend). For any other key (a string, a UUID, or a composite key) it
        allocates nothing and raises :class:`~pytest_demoseed.ScenarioError` naming the table:
        the phase makes those keys itself from its own streams or a counter (e.g.
        ``[f"S{n:06d}" for n in range(count)]``, ``uuid.UUID(int=ctx.rng.getrandbits(128))``)
        and gives them to ``factory_batches`` as ``ids=`` (one column) or in ``fixed=`` (each
        column of a composite key), or lets a factory declaration (``Sequence``) make them.
        """
        return self.ids.allocate(table_name, count)

    def share(self, key: str, value: Any) -> None:
        """Publish a result (ids, a lookup) for later phases."""
        self.shared[key] = value

    def need(self, key: str, from_phase: str) -> Any:
        try:
            return self.shared[key]
        except KeyError:
            raise ScenarioError(
                f"phase {self.phase!r} needs {key!r} from phase {from_phase!r}, which made none"
            ) from None

    def note_sequences(self, table: str, next_unused: int) -> None:
        """Record that ``table``'s rows used factory sequence numbers below ``next_unused``.

        Keyed by the name as a plain ``str`` (SQLAlchemy's table names are a subclass that xdist
        cannot send from a worker to the controller with the Dataset)."""
        name = str(table)
        if next_unused > self.sequences.get(name, 0):
            self.sequences[name] = int(next_unused)

    def note_fallback(self, text: str) -> None:
        """Report that part of this phase was made the slow way (per-row factory), once per text.

        The builder lists these in ``Dataset.fallbacks`` and the terminal summary.
        """
        line = f"{self.phase}: {text}"
        if line not in self.fallbacks:
            self.fallbacks.append(line)

    def progress(self, **counters: Any) -> None:
        """Update this phase's counters in the job status (``created=4``, ``batches=3``)."""
        self._progress(self.phase, counters)
