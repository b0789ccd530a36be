"""Reading what a run printed about its data: the one place tests parse demoseed's output.

A pytest run prints a header line and, when a test used demo data, a ``demoseed`` section::

    demoseed: scenario=small seed=42 database=sqlite (a file in pytest's base temp dir)
    ...
    ============================== demoseed ==============================
    small seed=42 fingerprint=<32 hex> (102 rows)
    small seed=42 electors.count=40 fingerprint=<32 hex> (92 rows)   (settings that differ from
                                                                     the scenario's defaults)
      rows: attendances 25, candidates 4, ...
      phases: election 1 row 0.001s, ...
      per-row fallbacks: ...                       (only when there are some)
      gw0: built in 0.031s, cloned in 0.002s -> sqlite:///.../demo_gw0.sqlite
      gw1: cloned in 0.002s (waited 0.030s for the snapshot lock) -> ...

``read_summary`` takes a ``RunResult``, a captured text or its lines and returns a ``Summary``.
Output with no section marker (a raw log of an inner run) is read line by line all the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SECTION = re.compile(r"^=+ demoseed =+$")
HEADER = re.compile(r"^demoseed: scenario=(?P<scenario>\S+) seed=(?P<seed>\S+) database=(?P<database>.+)$")
DATASET = re.compile(
    r"^(?P<scenario>[\w-]+) seed=(?P<seed>\d+)(?: (?P<overrides>.+?))? "
    r"fingerprint=(?P<fingerprint>[0-9a-f]{32}) \((?P<rows>[\d,]+) rows?\)$"
)
SOURCE = re.compile(
    r"^ +(?P<worker>main|gw\d+): (?P<source>built|cloned|restored)(?: from portable files)? in "
    r"(?P<timing>.*?)(?: -> (?P<database>.+))?$"
)
#: The ``demoseed`` command's own summary line (``seed`` subcommand): ``  fingerprint <hex>``.
COMMAND_FINGERPRINT = re.compile(r"^  fingerprint (?P<fingerprint>[0-9a-f]{32})$")


@dataclass
class Source:
    """One worker's line under a dataset: it built the spec or cloned it, into ``database``."""

    worker: str
    source: str
    database: str | None
    line: str


@dataclass
class Entry:
    """One spec in the section: its first line, its ``rows``/``phases`` lines and its workers."""

    scenario: str
    seed: int
    fingerprint: str
    total_rows: int
    line: str
    rows: str | None = None
    phases: str | None = None
    fallbacks: str | None = None
    sources: list[Source] = field(default_factory=list)
    #: ``PHASE.KEY=VALUE ...`` after the seed: the settings that differ from the scenario's defaults.
    overrides: str = ""


@dataclass
class Summary:
    lines: list[str]
    header: dict[str, str] | None
    #: The section's non-blank lines, or ``None`` when the run printed no section.
    section: list[str] | None
    datasets: list[Entry]

    def fingerprints(self) -> dict[tuple[str, int], str]:
        """``{(scenario, seed): fingerprint}``."""
        return {(e.scenario, e.seed): e.fingerprint for e in self.datasets}

    def fingerprint(self, scenario: str = "small", seed: int = 42) -> str:
        found = self.fingerprints()
        assert (scenario, seed) in found, self.lines
        return found[(scenario, seed)]

    def sources(self) -> list[tuple[str, str]]:
        """``[(worker, built|cloned)]`` in summary order."""
        return [(s.worker, s.source) for e in self.datasets for s in e.sources]

    def all_sources(self) -> list[Source]:
        return [s for e in self.datasets for s in e.sources]

    def built(self) -> list[str]:
        """The workers' ``built in`` lines, as printed."""
        return [s.line for s in self.all_sources() if s.source == "built"]

    def cloned(self) -> list[str]:
        return [s.line for s in self.all_sources() if s.source == "cloned"]

    def phases(self) -> list[str]:
        """Each dataset's ``phases:`` text (after ``  phases: ``)."""
        return [e.phases for e in self.datasets if e.phases is not None]


def _lines(output: Any) -> list[str]:
    if hasattr(output, "outlines"):  # pytest.RunResult
        return list(output.outlines)
    if isinstance(output, str):
        return output.splitlines()
    if hasattr(output, "stdout") and isinstance(output.stdout, str):  # subprocess.CompletedProcess
        return output.stdout.splitlines()
    return list(output)


def read_summary(output: Any) -> Summary:
    lines = _lines(output)
    headers = [m.groupdict() for m in map(HEADER.match, lines) if m]
    assert len(headers) <= 1, headers
    start = next((i for i, line in enumerate(lines) if SECTION.match(line)), None)
    section = None
    body: Iterable[str] = lines
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("===")), len(lines))
        section = [line for line in lines[start + 1 : end] if line.strip()]
        body = section
    datasets: list[Entry] = []
    for line in body:
        if match := DATASET.match(line):
            datasets.append(
                Entry(
                    match["scenario"],
                    int(match["seed"]),
                    match["fingerprint"],
                    int(match["rows"].replace(",", "")),
                    line,
                    overrides=match["overrides"] or "",
                )
            )
        elif not datasets:
            continue
        elif line.startswith("  rows: "):
            datasets[-1].rows = line[len("  rows: ") :]
        elif line.startswith("  phases: "):
            datasets[-1].phases = line[len("  phases: ") :]
        elif line.startswith("  per-row fallbacks: "):
            datasets[-1].fallbacks = line[len("  per-row fallbacks: ") :]
        elif match := SOURCE.match(line):
            datasets[-1].sources.append(Source(match["worker"], match["source"], match["database"], line))
    return Summary(lines, headers[0] if headers else None, section, datasets)


def header(output: Any) -> dict[str, str]:
    """The run's one ``demoseed: scenario=... seed=... database=...`` header line."""
    found = read_summary(output).header
    assert found is not None, _lines(output)[:10]
    return found


def command_fingerprint(stdout: str) -> str | None:
    """The fingerprint the ``demoseed seed`` command printed, if any."""
    match = next(filter(None, map(COMMAND_FINGERPRINT.match, stdout.splitlines())), None)
    return match["fingerprint"] if match else None


# --- short forms for the common questions ---------------------------------------------------------


def summary_fingerprints(output: Any) -> dict[tuple[str, int], str]:
    """``{(scenario, seed): fingerprint}`` from the ``demoseed`` section."""
    return read_summary(output).fingerprints()


def summary_sources(output: Any) -> list[tuple[str, str]]:
    """``[(worker, built|cloned)]`` in summary order."""
    return read_summary(output).sources()


def built_lines(output: Any) -> list[str]:
    """The workers' ``built in`` lines: one per spec a run built."""
    return read_summary(output).built()


def cloned_lines(output: Any) -> list[str]:
    return read_summary(output).cloned()


def dataset_fingerprints(output: Any) -> list[str]:
    """Every dataset's fingerprint, in summary order (one per spec)."""
    return [entry.fingerprint for entry in read_summary(output).datasets]
