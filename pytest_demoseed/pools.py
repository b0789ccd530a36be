"""Weighted pools drawn from Faker's own locale data: the fast way to make many realistic values."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faker import Faker

__all__ = ["WeightedPool", "locale_pool"]


@dataclass(frozen=True)
class WeightedPool:
    """Values with cumulative weights; ``draw`` picks ``k`` of them with one seeded call."""

    values: tuple[Any, ...]
    cum_weights: tuple[float, ...] | None = None

    def draw(self, rng: random.Random, k: int) -> list[Any]:
        if self.cum_weights is None:
            return rng.choices(self.values, k=k)
        return rng.choices(self.values, cum_weights=self.cum_weights, k=k)

    def one(self, rng: random.Random) -> Any:
        return self.draw(rng, 1)[0]


def locale_pool(faker: Faker, attribute: str) -> WeightedPool:
    """The word list a Faker provider keeps under ``attribute`` (weighted if it is a mapping).

    The same list Faker's own ``first_name()`` etc. draw from, in the provider's fixed order, so
    the pool is identical on every machine with the same Faker version.
    """
    for provider in faker.get_providers():
        data = getattr(provider, attribute, None)
        if data is None or callable(data):
            continue
        if isinstance(data, dict):
            values = tuple(data.keys())
            weights: Sequence[float] = tuple(float(w) for w in data.values())
            return WeightedPool(values, tuple(itertools.accumulate(weights)))
        return WeightedPool(tuple(data))
    raise LookupError(f"no Faker provider for locale {faker.locales} has {attribute!r}")
