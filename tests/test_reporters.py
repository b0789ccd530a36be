"""Progress reporters: JSON lines shape, bars on a non-terminal, auto's choice, throttling."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pytest_demoseed import STOP, BuildCancelled, LatestStatus, seed
from pytest_demoseed.report.command import (
    BarReporter,
    JsonLinesReporter,
    NullReporter,
    choose,
)

PHASES = ["election", "parties", "committees", "electors", "members", "guarantees", "attendance"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TtyStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def snapshot(status: str = "running", phase: str | None = "electors", rows: int = 0) -> dict[str, Any]:
    return {
        "status": status,
        "current_phase": phase,
        "progress": {"electors": {"rows": rows}},
        "errors": [],
        "elapsed": 0.0,
    }


def test_json_lines_are_job_status_events(tmp_path: Path) -> None:
    out = io.StringIO()
    with choose("json", out) as reporter:
        seed(f"sqlite:///{tmp_path}/a.db", "small", create_schema=True, on_progress=reporter)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    for event in events:
        assert set(event) == {"status", "current_phase", "progress", "errors", "elapsed"}
        assert list(event["progress"]) == PHASES
    assert events[0]["status"] == "running" and events[-1]["status"] == "done"
    entered = [e["current_phase"] for e in events if e["current_phase"]]
    assert list(dict.fromkeys(entered)) == PHASES  # every phase change is written
    assert events[-1]["progress"]["guarantees"] == {"rows": 15, "total": 15, "batches": 1}


def test_json_lines_throttle_counters_but_keep_changes_and_the_final_state() -> None:
    out, clock = io.StringIO(), FakeClock()
    reporter = JsonLinesReporter(out, interval=0.1, clock=clock)
    for rows in range(100):  # 100 updates within 0.05 s of one phase
        clock.now = rows * 0.0005
        reporter(snapshot(rows=rows))
    clock.now = 0.2
    reporter(snapshot(rows=100))
    reporter(snapshot(status="done", phase=None, rows=100))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["progress"]["electors"]["rows"] for e in lines] == [0, 100, 100]
    assert lines[-1]["status"] == "done"


def test_failed_events_carry_the_error_shape(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = JsonLinesReporter(out)
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(Exception, match="create the schema first"):
        seed(f"sqlite:///{path}", "small", on_progress=reporter)
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last["status"] == "failed"
    assert last["errors"][0]["phase"] is None and "no table" in last["errors"][0]["message"]
    assert set(last["errors"][0]) == {"phase", "message", "extra"}


def test_bar_to_a_non_terminal_stream_prints_the_final_table(tmp_path: Path) -> None:
    out = io.StringIO()
    with choose("bar", out) as reporter:
        assert isinstance(reporter, BarReporter)
        seed(f"sqlite:///{tmp_path}/a.db", "small", create_schema=True, on_progress=reporter)
    text = out.getvalue()
    assert "\x1b[" not in text  # no escape codes in a log
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert list(rows) == PHASES
    assert "50 rows" in rows["electors"] and "rows/s" in rows["electors"]


def test_bar_on_a_terminal_redraws_at_most_ten_times_a_second() -> None:
    out, clock = io.StringIO(), FakeClock()
    reporter = BarReporter(Console(file=out, force_terminal=True, width=100), clock=clock)
    refreshes = 0
    original = reporter.progress.refresh

    def counting() -> None:
        nonlocal refreshes
        refreshes += 1
        original()

    reporter.progress.refresh = counting  # type: ignore[method-assign]
    reporter(snapshot(rows=0))
    for rows in range(1, 1001):  # 1,000 updates over one second
        clock.now = rows / 1000
        reporter(snapshot(rows=rows))
    reporter(snapshot(status="done", phase=None, rows=1000))
    assert 5 <= refreshes <= 13
    assert "1,000 rows" in out.getvalue()


def test_bar_shows_where_a_cancelled_build_stopped(tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = BarReporter(stream=out)

    def stop_at_members(snapshot: dict[str, Any]) -> str | None:
        reporter(snapshot)
        return STOP if snapshot["current_phase"] == "members" else None

    with pytest.raises(BuildCancelled):
        seed(f"sqlite:///{tmp_path}/a.db", "small", create_schema=True, on_progress=stop_at_members)
    members = next(line for line in out.getvalue().splitlines() if line.startswith("members"))
    assert "cancelled" in members


def test_auto_picks_json_when_not_a_terminal_and_bars_on_one() -> None:
    assert isinstance(choose("auto", io.StringIO()), JsonLinesReporter)
    assert isinstance(choose("auto", TtyStringIO()), BarReporter)
    assert isinstance(choose("none", io.StringIO()), NullReporter)
    with pytest.raises(ValueError, match="auto, bar, json, none"):
        choose("loud", io.StringIO())


def test_latest_status_keeps_the_newest_and_turns_cancel_into_stop() -> None:
    forwarded: list[dict[str, Any]] = []
    status = LatestStatus(forward=forwarded.append)
    assert status.latest() is None
    assert status(snapshot(rows=1)) is None
    status.cancel()
    assert status(snapshot(rows=2)) == STOP
    latest = status.latest()
    assert latest is not None and latest["progress"]["electors"]["rows"] == 2 and len(forwarded) == 2


def test_the_plugins_live_display_stays_silent_for_a_real_quick_build(tmp_path: Path) -> None:
    from _pytest._io import TerminalWriter

    from pytest_demoseed.report.live import PytestLiveProgress

    out = io.StringIO()
    writer = TerminalWriter(out)
    writer.write("test_x.py ")
    live = PytestLiveProgress(writer, terminal=True)
    seed(f"sqlite:///{tmp_path}/a.db", "small", create_schema=True, on_progress=live)
    assert out.getvalue() == "test_x.py "  # under a second: no flicker, the summary reports it
    slow = PytestLiveProgress(writer, terminal=True, delay=0.0)
    seed(f"sqlite:///{tmp_path}/b.db", "small", create_schema=True, on_progress=slow)
    assert "demoseed electors" in out.getvalue() and out.getvalue().endswith("G")  # shown, then erased


def test_a_bar_started_late_still_lists_the_phases_already_done() -> None:
    out = io.StringIO()
    reporter = BarReporter(stream=out)
    late = {
        "status": "running",
        "current_phase": "electors",
        "progress": {"election": {"rows": 1}, "parties": {"rows": 6}, "electors": {"rows": 10}},
        "errors": [],
        "elapsed": 1.2,
    }
    reporter(late)
    reporter({**late, "status": "done", "current_phase": None})
    lines = {line.split()[0]: line for line in out.getvalue().splitlines() if line.strip()}
    assert "6 rows" in lines["parties"] and "10 rows" in lines["electors"]
