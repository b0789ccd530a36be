"""Helpers for driving inner pytest runs the way users meet the plugin."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: The summary line of one dataset: ``small seed=42 fingerprint=<hex> (102 rows)``.
SUMMARY_LINE = re.compile(
    r"^(?P<scenario>[\w-]+) seed=(?P<seed>\d+) fingerprint=(?P<fingerprint>[0-9a-f]{32}) "
)
#: A worker line of the summary: ``  gw0: built in 0.031s -> sqlite:///...``.
WORKER_LINE = re.compile(r"^  (?P<worker>main|gw\d+): (?P<source>built|cloned) in ")
HEADER_LINE = re.compile(
    r"^demoseed: scenario=(?P<scenario>\S+) seed=(?P<seed>\S+) database=(?P<database>.+)$"
)

#: Inner-test helper: ``dump(request, dataset, **extra)`` writes one JSON file per test and worker.
DUMP_HELPER = """
import json, os, pathlib

OUT = pathlib.Path({out!r})


def dump(request, dataset=None, **extra):
    OUT.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = request.node.name.replace("/", "_")
    data = dict(dataset.as_dict()) if dataset is not None else {{}}
    data.update(extra, test=request.node.nodeid, worker=worker)
    (OUT / f"{{name}}@{{worker}}.json").write_text(json.dumps(data, default=str))
"""


@dataclass
class Inner:
    """A pytester project with the dump helper, and readers for what inner tests recorded."""

    pytester: pytest.Pytester

    @property
    def out(self) -> Path:
        return self.pytester.path / "dumps"

    def setup(self) -> None:
        self.pytester.makepyfile(demohelp=DUMP_HELPER.format(out=str(self.out)))

    def test_file(self, source: str, name: str = "test_inner") -> Path:
        return self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def dumps(self) -> dict[str, dict[str, Any]]:
        """``{"test_name@worker": data}`` for every test that called ``dump``."""
        if not self.out.exists():
            return {}
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.out.glob("*.json"))}

    def by_test(self) -> dict[str, dict[str, Any]]:
        """``{"test_name": data}``; fails if a test ran twice with different data."""
        found: dict[str, dict[str, Any]] = {}
        for key, data in self.dumps().items():
            name = key.split("@")[0]
            found[name] = data
        return found

    def clear(self) -> None:
        for path in self.out.glob("*.json") if self.out.exists() else []:
            path.unlink()


@pytest.fixture()
def inner(pytester: pytest.Pytester) -> Inner:
    helper = Inner(pytester)
    helper.setup()
    return helper


def summary_fingerprints(result: pytest.RunResult) -> dict[tuple[str, int], str]:
    """``{(scenario, seed): fingerprint}`` from the ``demoseed`` terminal summary section."""
    found: dict[tuple[str, int], str] = {}
    for line in result.outlines:
        match = SUMMARY_LINE.match(line)
        if match:
            found[(match["scenario"], int(match["seed"]))] = match["fingerprint"]
    return found


def summary_sources(result: pytest.RunResult) -> list[tuple[str, str]]:
    """``[(worker, built|cloned)]`` in summary order."""
    return [(m["worker"], m["source"]) for m in map(WORKER_LINE.match, result.outlines) if m]


def header(result: pytest.RunResult) -> dict[str, str]:
    lines = [m for m in map(HEADER_LINE.match, result.outlines) if m]
    assert len(lines) == 1, result.outlines[:10]
    return lines[0].groupdict()


def assert_usage_error(result: pytest.RunResult, *fragments: str) -> str:
    """Exit code 4, exactly one ``ERROR:`` line naming every fragment, no traceback, no test run."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, (result.ret, result.outlines, result.errlines)
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1, errors
    (line,) = errors
    assert line.startswith("ERROR: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    text = "\n".join(result.outlines + result.errlines)
    assert "Traceback" not in text
    assert not any(re.match(r"^=+ .*\b(passed|failed|errors?)\b.* in ", ln) for ln in result.outlines), text
    return line
