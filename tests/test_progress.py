"""Live build progress in a pytest run (``--demo-progress``): silent for quick builds and when
stdout is not a terminal (auto), per-phase rows and rows/s otherwise, pytest's own lines intact,
nothing from xdist workers, and each phase's rows and seconds in the terminal summary."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from typing import Any

import pytest
from _pytest._io import TerminalWriter
from summary import read_summary, summary_sources

from pytest_demoseed.report.live import PhaseTracker, PytestLiveProgress

# -- a terminal, as far as the display uses one ----------------------------------------------------

CSI = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: text, \\r, \\n, and the CSI codes A, G, K, J, m."""
    rows: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(raw):
        match = CSI.match(raw, i)
        if match:
            n, code = int(match.group(1) or 0), match.group(2)
            if code == "A":
                row = max(row - (n or 1), 0)
            elif code == "G":
                col = max(n - 1, 0)
            elif code == "K" and n == 2:
                rows[row] = []
            elif code == "J":
                del rows[row][col:]
                del rows[row + 1 :]
            i = match.end()
            continue
        char = raw[i]
        i += 1
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
        else:
            line = rows[row]
            line.extend(" " * (col - len(line)))
            line[col : col + 1] = [char]
            col += 1
        while len(rows) <= row:
            rows.append([])
    shown = ["".join(line).rstrip() for line in rows]
    while shown and not shown[-1]:
        shown.pop()
    return shown


def snap(elapsed: float, phase: str | None, rows: dict[str, int], status: str = "running") -> dict[str, Any]:
    return {
        "status": status,
        "current_phase": phase,
        "progress": {name: {"rows": n} for name, n in rows.items()},
        "errors": [],
        "elapsed": elapsed,
    }


#: A build of two phases that passes the one-second mark in its second phase.
SLOW_BUILD = [
    snap(0.0, None, {}),
    snap(0.0, "electors", {}),
    snap(0.5, "electors", {"electors": 50_000}),
    snap(1.0, "electors", {"electors": 100_000}),
    snap(1.05, "attendance", {"electors": 100_000}),
    snap(1.2, "attendance", {"electors": 100_000, "attendance": 10_000}),
    snap(1.25, "attendance", {"electors": 100_000, "attendance": 20_000}),
    snap(1.45, "attendance", {"electors": 100_000, "attendance": 40_000}),
    snap(1.45, None, {"electors": 100_000, "attendance": 40_000}, status="done"),
]


def pytest_line() -> tuple[io.StringIO, TerminalWriter]:
    out = io.StringIO()
    writer = TerminalWriter(out)
    writer.fullwidth = 80
    writer.write("test_x.py ")
    writer.write(".")  # a result, then the next test's setup builds
    return out, writer


def test_on_a_terminal_lines_are_drawn_below_pytests_line_then_erased_and_the_cursor_restored() -> None:
    out, writer = pytest_line()
    live = PytestLiveProgress(writer, terminal=True)
    for snapshot in SLOW_BUILD[:-1]:
        live(snapshot)
    during = screen(out.getvalue())
    assert during[0] == "test_x.py ."  # pytest's half line is left as it was
    assert re.match(r"^demoseed electors +100,000 rows +95,238 rows/s +1\.05s$", during[1]), during
    assert re.match(r"^demoseed attendance +40,000 rows +100,000 rows/s +0\.40s$", during[2]), during
    assert len(during) == 3
    # redrawn on a phase change and at most every 0.1 s: 1.05, 1.2 and 1.45, not 1.25
    assert out.getvalue().count("demoseed attendance") == 3
    live(SLOW_BUILD[-1])
    writer.write(".")  # pytest carries on where it was
    writer.line()
    assert screen(out.getvalue()) == ["test_x.py .."]


def test_a_build_quicker_than_a_second_writes_nothing() -> None:
    out, writer = pytest_line()
    live = PytestLiveProgress(writer, terminal=True)
    for snapshot in [
        snap(0.0, "electors", {}),
        snap(0.4, "electors", {"electors": 9}),
        snap(0.9, None, {}, "done"),
    ]:
        live(snapshot)
    assert out.getvalue() == "test_x.py ."


def test_into_a_log_each_phase_is_one_line_when_it_ends_and_pytests_line_is_written_again() -> None:
    out, writer = pytest_line()
    live = PytestLiveProgress(writer, terminal=False)
    for snapshot in SLOW_BUILD[:4]:
        live(snapshot)
    assert out.getvalue() == "test_x.py ."  # electors has not ended yet: nothing to say
    for snapshot in SLOW_BUILD[4:]:
        live(snapshot)
    writer.write(".")
    text = out.getvalue()
    assert "\x1b[" not in text
    assert text.splitlines() == [
        "test_x.py .",
        "demoseed electors           100,000 rows     95,238 rows/s    1.05s",
        "demoseed attendance          40,000 rows    100,000 rows/s    0.40s",
        "demoseed build done in 1.45s",
        "test_x.py ..",
    ]


def test_a_new_build_first_ends_the_display_a_failed_build_left_open() -> None:
    out, writer = pytest_line()
    live = PytestLiveProgress(writer, terminal=True)
    for snapshot in SLOW_BUILD[:4]:  # it raised here, before any final snapshot
        live(snapshot)
    assert "demoseed electors" in screen(out.getvalue())[1]
    live(snap(0.0, None, {}))  # the next build
    assert screen(out.getvalue()) == ["test_x.py ."]


def test_tracker_times_phases_by_the_builds_own_clock() -> None:
    tracker = PhaseTracker()
    ended = [tracker.update(s) for s in SLOW_BUILD]
    assert ended[4] == ["electors"] and ended[-1] == ["attendance"]
    assert tracker.phases["electors"].started == 0.0 and tracker.phases["electors"].ended == 1.05
    assert tracker.phases["attendance"].rows == 40_000


# -- inner pytest runs ---------------------------------------------------------------------------

#: A scenario whose one phase takes about 1.5 s (six batches of 1,000 rows, 0.25 s apart).
CONFTEST = """
import time
import sqlalchemy as sa
from pytest_demoseed import Batch, Scenario, phase, register

metadata = sa.MetaData()
sa.Table("ticks", metadata, sa.Column("id", sa.Integer, primary_key=True))


@phase("ticking", tables=("ticks",))
def ticking(ctx):
    for _ in range(6):
        time.sleep(0.25)
        yield Batch("ticks", ("id",), [(i,) for i in ctx.allocate("ticks", 1000)])


register(Scenario("slow", (ticking,), metadata), replace=True)
"""

TESTS = """
def test_one(demo_dataset):
    assert demo_dataset.counts["ticks"] == 6000


def test_two(demo_dataset):
    assert demo_dataset.counts["ticks"] == 6000
"""


def assert_ticking_phases(output: Any) -> None:
    """The summary's phases line: the one phase's rows and seconds."""
    (phases,) = read_summary(output).phases()
    assert re.fullmatch(r"ticking 6,000 rows [\d.]+s", phases), phases


LIVE_LINE = re.compile(r"^demoseed ticking +6,000 rows +[\d,]+ rows/s +[\d.]+s$")


@pytest.fixture
def slow_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=TESTS)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """In-process: its output is captured, not a terminal, as a subprocess's pipe would be (the
    real terminal has its own test below, through a pseudo-terminal)."""
    return pytester.runpytest_inprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "--demo-scenario=slow", *args
    )


def test_auto_is_silent_when_stdout_is_not_a_terminal(slow_project: pytest.Pytester) -> None:
    result = run(slow_project)
    result.assert_outcomes(passed=2)
    assert not any(line.startswith("demoseed ticking") for line in result.outlines)
    assert "\x1b[" not in result.stdout.str()
    # the summary still lists the phase's rows and seconds
    assert_ticking_phases(result)


def test_bar_prints_each_phase_with_rows_and_rate_and_keeps_pytests_lines(
    slow_project: pytest.Pytester,
) -> None:
    result = run(slow_project, "--demo-progress=bar")
    result.assert_outcomes(passed=2)
    lines = result.outlines
    at = next(i for i, line in enumerate(lines) if LIVE_LINE.match(line))
    assert lines[at - 1] == "test_inner.py "  # pytest's half line, left before the build
    assert re.match(r"^demoseed build done in [\d.]+s$", lines[at + 1])
    assert re.match(r"^test_inner.py \.\. +\[100%\]$", lines[at + 2])  # and written again


def test_none_shows_nothing_even_for_a_slow_build(slow_project: pytest.Pytester) -> None:
    slow_project.makeini("[pytest]\ndemo_progress = bar\n")
    # the option wins over the ini; and the plugin runs without xdist (its hooks are optional)
    result = run(slow_project, "--demo-progress=none", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
    assert not any(line.startswith("demoseed ticking") for line in result.outlines)


def test_xdist_workers_show_nothing_live_and_the_summary_names_each_worker(
    slow_project: pytest.Pytester,
) -> None:
    result = run(slow_project, "-p", "xdist", "-n", "2", "--demo-progress=bar")
    result.assert_outcomes(passed=2)
    assert not any(line.startswith("demoseed ticking") for line in result.outlines)
    assert_ticking_phases(result)
    workers = {worker for worker, _ in summary_sources(result)}
    assert workers == {"gw0", "gw1"}


def test_a_bad_ini_value_is_one_usage_error_line(slow_project: pytest.Pytester) -> None:
    slow_project.makeini("[pytest]\ndemo_progress = loud\n")
    result = run(slow_project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert errors == ["ERROR: ini demo_progress must be auto, bar or none, got 'loud'"]  # names its source


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def test_auto_on_a_real_terminal_draws_live_lines_and_leaves_pytests_output_intact(
    slow_project: pytest.Pytester,
) -> None:
    primary, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "50", "TERM": "xterm"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "--demo-scenario=slow",
    ]
    child = subprocess.Popen(command, cwd=slow_project.path, stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    raw = read_all(primary)
    os.close(primary)
    assert child.wait(timeout=60) == 0, raw
    assert re.search(r"\x1b\[2Kdemoseed ticking +[\d,]+ rows", raw), raw  # drawn live
    shown = screen(raw)
    assert not any(line.startswith("demoseed ticking") for line in shown)  # and erased
    assert any(re.match(r"^test_inner.py \.\. +\[100%\]$", line) for line in shown), "\n".join(shown)
    assert_ticking_phases(shown)


def test_the_pty_helper_reads_what_the_display_wrote() -> None:
    # the emulator's own check: an erase and cursor restore put the line back as it was
    raw = "test_x.py .\n\x1b[2Kdemoseed a\n\x1b[2Kdemoseed b\x1b[J\r\x1b[1A\x1b[J\x1b[1A\x1b[12G."
    assert screen(raw) == ["test_x.py .."]


def test_a_build_of_many_phases_keeps_to_a_few_lines_the_terminal_can_erase() -> None:
    out, writer = pytest_line()
    live = PytestLiveProgress(writer, terminal=True)
    names = [f"phase{i:02d}" for i in range(20)]
    for i, name in enumerate(names):
        live(snap(1.0 + i / 10, name, {n: 10 for n in names[: i + 1]}))
    shown = screen(out.getvalue())
    assert shown[1] == "demoseed ... 13 earlier phases done"
    assert [line.split()[1] for line in shown[2:]] == names[13:]
    live(snap(3.0, None, {}, "done"))
    assert screen(out.getvalue()) == ["test_x.py ."]
