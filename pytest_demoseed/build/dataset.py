"""Dataset: what a build made, for tests and reports."""

from __future__ import annotations

import dataclasses
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
    #: Per table, the next factory sequence number the build left unused (see ``factory_batches``).
    sequences: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the snapshot sidecar and the run summary; ``extra`` (this process's
        timings) is not part of them."""
        data = dataclasses.asdict(dataclasses.replace(self, extra={}))
        del data["extra"]
        data["fallbacks"] = list(self.fallbacks)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dataset:
        values = dict(data)
        values["fallbacks"] = tuple(values.get("fallbacks", ()))
        values.pop("extra", None)
        return cls(**values)

    def replace(self, **changes: Any) -> Dataset:
        return dataclasses.replace(self, **changes)
