"""Deterministic distributions scenarios need: exact quotas, weighted parents, curves over time."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["apportion", "choose_parents", "progression", "spread_times", "zipf_weights"]

T = TypeVar("T")


def apportion(weights: Sequence[float], total: int) -> list[int]:
    """Split ``total`` into integer quotas proportional to ``weights`` (largest remainder).

    Exact quotas make a scenario's pattern hold for every seed: a party weighted 0.62 gets 62%
    of 300 guarantees, not "about 62% if the draw was kind".
    """
    if total < 0:
        raise ValueError("total must be >= 0")
    if not weights:
        return []
    mass = float(sum(weights))
    if mass <= 0:
        raise ValueError("weights must have a positive sum")
    exact = [w / mass * total for w in weights]
    quotas = [math.floor(x) for x in exact]
    remainders = sorted(range(len(weights)), key=lambda i: (-(exact[i] - quotas[i]), i))
    for i in remainders[: total - sum(quotas)]:
        quotas[i] += 1
    return quotas


def zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    """Weights 1/1^s, 1/2^s, ...: a few parents get most children, as in real data."""
    return [1.0 / (rank**exponent) for rank in range(1, count + 1)]


def choose_parents(
    rng: random.Random,
    parents: Sequence[T],
    k: int,
    distribution: str = "random",
    weights: Sequence[float] | None = None,
) -> list[T]:
    """Pick a parent for each of ``k`` children.

    ``random``: uniform draws; ``even``: exact equal shares, shuffled; ``weighted``: exact shares
    by ``weights``, shuffled; ``zipf``: draws with Zipf-like weights (first parents most).
    """
    if not parents:
        if k:
            raise ValueError("no parents to choose from")
        return []
    if distribution == "random":
        return rng.choices(parents, k=k)
    if distribution == "zipf":
        cum = list(itertools.accumulate(zipf_weights(len(parents))))
        return rng.choices(parents, cum_weights=cum, k=k)
    if distribution == "even":
        shares: Sequence[float] = [1.0] * len(parents)
    elif distribution == "weighted":
        if weights is None or len(weights) != len(parents):
            raise ValueError("weighted needs one weight per parent")
        shares = weights
    else:
        raise ValueError(f"unknown distribution {distribution!r}; use random, even, weighted or zipf")
    chosen = [p for p, quota in zip(parents, apportion(shares, k), strict=True) for _ in range(quota)]
    rng.shuffle(chosen)
    return chosen


def spread_times(
    rng: random.Random,
    k: int,
    start: dt.datetime,
    end: dt.datetime,
    curve: Sequence[float] | None = None,
) -> list[dt.datetime]:
    """``k`` sorted timestamps in ``[start, end)``, whole seconds, shaped by ``curve``.

    ``curve`` gives the relative weight of equal slices of the window (e.g. one per hour);
    none means uniform. Computed up front from the window, never from the wall clock.
    """
    seconds = int((end - start).total_seconds())
    if seconds <= 0:
        raise ValueError("end must be after start")
    if not curve:
        offsets = [rng.randrange(seconds) for _ in range(k)]
    else:
        slices = len(curve)
        width = seconds / slices
        cum = list(itertools.accumulate(float(w) for w in curve))
        picks = rng.choices(range(slices), cum_weights=cum, k=k)
        draw, last = rng.random, seconds - 1
        offsets = [min(int(s * width + draw() * width), last) for s in picks]
    offsets.sort()
    return _moments(start, offsets)


def _moments(start: dt.datetime, offsets: list[int]) -> list[dt.datetime]:
    """``start`` plus each offset in seconds. Each distinct offset is added once (a busy day
    repeats most seconds: 350,000 votes in 43,200 seconds) and shared, datetimes being
    immutable; then the list is made by a C-level ``map``."""
    at = {s: start + dt.timedelta(seconds=s) for s in dict.fromkeys(offsets)}
    return list(map(at.__getitem__, offsets))


def progression(start: float, end: float, steps: int, curve: str = "linear") -> list[float]:
    """A parameter moving from ``start`` to ``end`` over ``steps`` (e.g. weeks).

    ``linear``, ``ease-in`` (slow then fast) or ``ease-out`` (fast then slow).
    """
    if steps < 1:
        raise ValueError("steps must be >= 1")
    if steps == 1:
        return [float(end)]
    shapes: dict[str, Callable[[float], float]] = {
        "linear": lambda t: t,
        "ease-in": lambda t: t * t,
        "ease-out": lambda t: 1 - (1 - t) * (1 - t),
    }
    if curve not in shapes:
        raise ValueError(f"unknown curve {curve!r}; use linear, ease-in or ease-out")
    shape = shapes[curve]
    return [start + (end - start) * shape(i / (steps - 1)) for i in range(steps)]
