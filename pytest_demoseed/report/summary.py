"""Plain-text lines that describe a dataset: its overrides, rows per table, rows and seconds per phase.

The pytest terminal summary and the ``demoseed`` command print the same lines from here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.scenario.declare import Scenario

__all__ = [
    "summary_lines",
    "summary_record",
    "describe_counts",
    "describe_fallbacks",
    "describe_migrated",
    "describe_overrides",
    "describe_phases",
    "describe_rows",
    "scenario_tables",
    "show_setting",
]


def describe_counts(counts: Mapping[str, int]) -> str:
    """``parties 6, electors 2,000``: the tables that have rows, in the order given."""
    return ", ".join(f"{name} {count:,}" for name, count in counts.items() if count)


def describe_fallbacks(fallbacks: Sequence[str]) -> str:
    """``per-row fallbacks: players: PlayerFactory: 40 rows built per row by the factory for
    token (LazyFunction); ...``: the pytest summary's line and the command's, one form."""
    return "per-row fallbacks: " + "; ".join(fallbacks)


def show_setting(value: Any) -> str:
    """A setting as ``--demo-set`` takes it: ``0.5``, ``true``, ``none``, ``0.6,0.4``,
    ``2026-03-01``; text with spaces (or none at all) is quoted, so a line stays one token per
    setting."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ",".join(show_setting(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c == '"' for c in text) else text


def describe_overrides(dataset: Dataset, scenario: Scenario) -> str:
    """``votes.count=80 attendance.rate=0.5``: the settings of ``dataset`` that differ from
    ``scenario``'s defaults, in phase order, so two specs of one scenario and seed tell apart
    in the summary; empty when the spec is the scenario as declared."""
    defaults = scenario.defaults()
    parts = []
    for found in scenario.phases:
        given = dataset.settings.get(found.name, {})
        for key, default in defaults.get(found.name, {}).items():
            # compared as shown: a kept snapshot's sidecar (JSON) holds lists, not tuples
            if key in given and show_setting(given[key]) != show_setting(default):
                parts.append(f"{found.name}.{key}={show_setting(given[key])}")
    return " ".join(parts)


def scenario_tables(scenario: Scenario) -> list[str]:
    """The tables the scenario's phases declare (``@phase(tables=...)``), in phase order."""
    found: list[str] = []
    for item in scenario.phases:
        found.extend(t for t in item.tables if t not in found)
    return found


def describe_rows(dataset: Dataset, scenario: Scenario) -> str:
    """``attendances 25, candidates 4, ...``: rows of the tables the scenario's phases declare
    (0 included: a phase that made none), in the dataset's order; other tables of the same
    metadata are not the scenario's and are left out. A scenario that declares no tables shows
    the tables that have rows."""
    declared = set(scenario_tables(scenario))
    if not declared:
        return describe_counts(dataset.counts)
    return ", ".join(f"{name} {count:,}" for name, count in dataset.counts.items() if name in declared)


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


#: Per-worker values kept beside the Dataset in a summary record (they are not part of it).
_TIMINGS = ("snapshot_build_seconds", "clone_seconds", "wait_seconds", "restore_seconds")
#: ``migrated``: the rows the schema's migrations left (counts apart from the scenario's);
#: ``snapshot_only``: the controller's record of a snapshot it built for its xdist workers.
#: ``rebuilt_because``: why a kept snapshot was not used (a damaged file) and was built again.
_LOCAL = frozenset(
    {"worker", "phases", "overrides", "rows", "migrated", "snapshot_only", "rebuilt_because", *_TIMINGS}
)


def describe_migrated(migrated: Mapping[str, Any]) -> str:
    """``migrated to 3f2a9c1d: 6 rows from data migrations (currencies 4, plans 2)``."""
    revisions = ",".join(str(r)[:12] for r in migrated.get("revisions", ()))
    counts: Mapping[str, int] = migrated.get("counts", {})
    total = sum(counts.values())
    if not total:
        return f"migrated to {revisions}: no rows from migrations"
    plural = "" if total == 1 else "s"
    return f"migrated to {revisions}: {total:,} row{plural} from migrations ({describe_counts(counts)})"


def summary_record(dataset: Dataset, scenario: Scenario, worker: str) -> dict[str, Any]:
    """What a worker provided, as plain values an xdist worker can send to the controller; the
    lines that need the scenario object (its defaults, its tables, its phases) are written here,
    where it is at hand."""
    return {
        **dataset.as_dict(),
        **{k: dataset.extra.get(k, 0.0) for k in _TIMINGS},
        "migrated": dataset.extra.get("migrated"),
        "rebuilt_because": dataset.extra.get("rebuilt_because"),
        "overrides": describe_overrides(dataset, scenario),
        "rows": describe_rows(dataset, scenario),
        "phases": describe_phases(dataset, scenario),
        "worker": worker,
    }


def summary_lines(records: list[dict[str, Any]]) -> list[str]:
    """The terminal summary's lines: each spec once (its settings that differ from the
    scenario's defaults in its first line), then each worker that built or cloned it."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for item in records:
        seen.setdefault(item["spec_key"], []).append(item)
    lines = []
    for items in seen.values():
        first = items[0]
        dataset = Dataset.from_dict({k: v for k, v in first.items() if k not in _LOCAL})
        overrides = f" {first['overrides']}" if first.get("overrides") else ""
        lines.append(
            f"{dataset.scenario} seed={dataset.seed}{overrides} fingerprint={dataset.fingerprint} "
            f"({dataset.total_rows:,} rows)"
        )
        lines.append("  rows: " + first["rows"])
        migrated = next((item["migrated"] for item in items if item.get("migrated")), None)
        if migrated:
            lines.append("  " + describe_migrated(migrated))
        lines.append("  phases: " + first["phases"])
        if dataset.fallbacks:
            lines.append("  " + describe_fallbacks(dataset.fallbacks))
        because = next((item["rebuilt_because"] for item in items if item.get("rebuilt_because")), None)
        if because:
            lines.append(f"  rebuilt, the kept snapshot was damaged: {because}")
        for item in sorted(items, key=lambda d: d["worker"]):
            lines.append(f"  {item['worker']}: {_timing(item)} -> {item['database']}")
    return lines


def _timing(item: dict[str, Any]) -> str:
    """``built in 1.2s, cloned in 0.05s`` or ``cloned in 0.05s (waited 1.2s for the build)``."""
    clone, wait = item.get("clone_seconds", 0.0), item.get("wait_seconds", 0.0)
    if item.get("snapshot_only"):
        return f"built in {item.get('snapshot_build_seconds', 0.0):.3f}s while the workers started"
    text = f"cloned in {clone:.3f}s"
    if item["source"] == "restored":
        text = f"restored from portable files in {item.get('restore_seconds', 0.0):.3f}s, " + text
    if item["source"] == "built":
        text = f"built in {item.get('snapshot_build_seconds') or item['source_seconds']:.3f}s, " + text
    return text + (f" (waited {wait:.3f}s for the snapshot lock)" if wait >= 0.01 else "")
