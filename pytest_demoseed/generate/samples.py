"""A sample pool: mix a given share of real records (from a CSV or JSON file) into generated ones.

Demo data looks more convincing with some real titles, names or messages in it, but a scenario
must stay reproducible: :meth:`SamplePool.draw` takes the phase's seeded ``random.Random``, and
the same seed gives the same positions, the same real records and the same generated values.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pytest_demoseed.errors import ScenarioError

__all__ = ["SamplePool"]

T = TypeVar("T")


def _load_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def _load_json(path: Path) -> list[Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ScenarioError(f"sample file {path} must hold a JSON list of records")
    return data


@dataclass(frozen=True)
class SamplePool(Generic[T]):
    """Real ``records`` and the ``share`` (0..1) of drawn values that should come from them.

    Records keep the file's order, so a pool is the same on every machine that has the file.
    """

    records: tuple[T, ...]
    share: float

    def __post_init__(self) -> None:
        if isinstance(self.share, bool) or not 0.0 <= float(self.share) <= 1.0:
            raise ScenarioError(f"sample share must be between 0 and 1, not {self.share!r}")
        if self.share > 0 and not self.records:
            raise ScenarioError("a sample pool with a share above 0 needs at least one record")

    @classmethod
    def of(cls, records: Iterable[T], share: float) -> SamplePool[T]:
        return cls(tuple(records), share)

    @classmethod
    def from_file(cls, path: str | Path, share: float, *, field: str | None = None) -> SamplePool[Any]:
        """Records from a ``.csv`` (rows as dicts of text) or ``.json`` file (a list).

        With ``field``, each record is that field's value (e.g. ``field="title"``), not the
        whole row. A missing file, unknown field or other format is a one-line ScenarioError.
        """
        source = Path(path)
        suffix = source.suffix.lower()
        if suffix not in (".csv", ".json"):
            raise ScenarioError(f"sample file {source} must end in .csv or .json")
        try:
            rows: list[Any] = _load_csv(source) if suffix == ".csv" else _load_json(source)
        except FileNotFoundError:
            raise ScenarioError(f"sample file {source} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
            raise ScenarioError(f"sample file {source} cannot be read: {exc}") from None
        if field is not None:
            missing = [i for i, row in enumerate(rows) if not isinstance(row, dict) or field not in row]
            if missing:
                raise ScenarioError(f"sample file {source}: record {missing[0] + 1} has no field {field!r}")
            rows = [row[field] for row in rows]
        return SamplePool(tuple(rows), share)

    def real_count(self, k: int) -> int:
        """How many of ``k`` drawn values are real: ``share * k``, rounded half up."""
        return min(k, int(self.share * k + 0.5))

    def draw(self, rng: random.Random, k: int, generate: Callable[[random.Random], T]) -> list[T]:
        """``k`` values: :meth:`real_count` of them real records at seeded positions, the rest
        from ``generate(rng)``, called in position order.

        Real records are drawn without repeats until the pool runs out, then it is reshuffled.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, not {k}")
        real = self.real_count(k)
        positions = set(rng.sample(range(k), real))
        picked = self._pick(rng, real)
        result: list[T] = []
        for index in range(k):
            result.append(picked.pop() if index in positions else generate(rng))
        return result

    def _pick(self, rng: random.Random, count: int) -> list[T]:
        picked: list[T] = []
        while len(picked) < count:
            take = min(count - len(picked), len(self.records))
            picked.extend(rng.sample(self.records, take))
        picked.reverse()  # popped from the end, so records come out in sampled order
        return picked

    def is_real(self, value: object) -> bool:
        """Whether ``value`` is one of the pool's records (for tests of the mix)."""
        return value in self.records

    def __len__(self) -> int:
        return len(self.records)
