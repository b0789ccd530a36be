"""Dataset: what a build made, for tests and reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Dataset"]


@dataclass(frozen=True)
class Dataset:
    """A built scenario: counts per table, key ids, fingerprint and timings per phase.

    ``source`` says how this worker got it: ``built`` (generated here) or ``cloned`` (copied
    from a snapshot another build made).
    """

    scenario: str
    seed: int
    spec_key: str
    settings: Mapping[str, Mapping[str, Any]]
    counts: Mapping[str, int]
    fingerprint: str
    table_fingerprints: Mapping[str, str]
    phase_seconds: Mapping[str, float]
    build_seconds: float
    root_id: Any = None
    database: str = ""
    source: str = "built"
    source_seconds: float = 0.0
    fallbacks: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "spec_key": self.spec_key,
            "settings": {k: dict(v) for k, v in self.settings.items()},
            "counts": dict(self.counts),
            "fingerprint": self.fingerprint,
            "table_fingerprints": dict(self.table_fingerprints),
            "phase_seconds": dict(self.phase_seconds),
            "build_seconds": self.build_seconds,
            "root_id": self.root_id,
            "database": self.database,
            "source": self.source,
            "source_seconds": self.source_seconds,
            "fallbacks": list(self.fallbacks),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dataset:
        values = dict(data)
        values["fallbacks"] = tuple(values.get("fallbacks", ()))
        values.pop("extra", None)
        return cls(**values)

    def replace(self, **changes: Any) -> Dataset:
        from dataclasses import replace

        return replace(self, **changes)
