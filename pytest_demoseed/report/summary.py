"""Plain-text lines that describe a dataset: rows per table, rows and seconds per phase.

The pytest terminal summary and the ``demoseed`` command print the same lines from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.scenario.declare import Scenario

__all__ = ["describe_counts", "describe_phases"]


def describe_counts(counts: Mapping[str, int]) -> str:
    """``parties 6, electors 2,000``: the tables that have rows, in the order given."""
    return ", ".join(f"{name} {count:,}" for name, count in counts.items() if count)


def describe_phases(dataset: Dataset, scenario: Scenario) -> str:
    """``election 1 row 0.001s, parties 6 rows 0.002s, ..., attendance off`` for the summary.

    A phase's rows are those of the tables it declares (``@phase(tables=...)``) in ``scenario``
    (the one the dataset was built from), from the dataset's counts, so a cloned or reused
    dataset reports them too; a phase that declares none shows its seconds only.
    """
    owner: dict[str, str] = {}
    for found in scenario.phases:
        for table in found.tables:
            owner.setdefault(table, found.name)
    parts = []
    for name, seconds in dataset.phase_seconds.items():
        if not dataset.settings.get(name, {}).get("enabled", True):
            parts.append(f"{name} off")
            continue
        tables = [t for t, o in owner.items() if o == name]
        rows = sum(dataset.counts.get(t, 0) for t in tables)
        made = f" {rows:,} row{'' if rows == 1 else 's'}" if tables else ""
        parts.append(f"{name}{made} {seconds:.3f}s")
    return ", ".join(parts)
