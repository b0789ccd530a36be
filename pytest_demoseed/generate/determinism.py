"""Stable seeds, seeded random streams and the canonical text form that fingerprints rely on."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import random
from typing import Any

import factory.random
from faker import Faker

__all__ = [
    "canonical",
    "canonical_json",
    "derive_seed",
    "seeded_faker",
    "seeded_random",
    "reseed_factory_boy",
]


def canonical(value: Any) -> str:
    """One text form per value, the same whichever backend or process produced it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep="T", timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and canonical scalars: the text a seed or key is hashed from."""

    def fallback(obj: Any) -> Any:
        if isinstance(obj, (tuple, frozenset, set)):
            return sorted(obj, key=repr) if not isinstance(obj, tuple) else list(obj)
        return canonical(obj)

    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=fallback)


def derive_seed(root: int, *labels: Any) -> int:
    """A 64-bit seed from the root seed and labels: blake2b, never ``hash()``."""
    text = canonical_json([int(root), *labels])
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def seeded_random(root: int, *labels: Any) -> random.Random:
    """A private ``random.Random`` that no other library reseeds behind our back."""
    return random.Random(derive_seed(root, *labels))


def seeded_faker(root: int, *labels: Any, locale: str | list[str] = "en_US") -> Faker:
    """A Faker instance with its own seeded generator (not Faker's shared class-level one)."""
    fake = Faker(locale)
    fake.seed_instance(derive_seed(root, *labels))
    return fake


def reseed_factory_boy(root: int, *labels: Any) -> None:
    """Reseed factory_boy's shared random (and through it Faker's) from a derived seed.

    factory_boy keeps one module-level random shared by ``factory.Faker`` declarations and
    fuzzy attributes; phases and tests that use factories reseed it right before they run,
    so whatever reseeded it earlier (pytest-randomly, another test) has no effect.
    """
    factory.random.reseed_random(derive_seed(root, *labels))
