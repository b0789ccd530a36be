"""Progress reporters: callables that take a build's job-status snapshots and show or store them.

The same reporters serve the ``demoseed`` command and the pytest plugin: a rich live bar per
phase (rows and rows/s) for people at a terminal, JSON lines (one job-status event per line) for
CI logs and web jobs that wrap the command, and a null reporter. Each throttles itself to about
ten redraws a second and always shows the final state. The job API that a web job polls
(:class:`~pytest_demoseed.build.progress.LatestStatus`) lives beside the job status it keeps.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from pytest_demoseed.build.progress import FINAL_STATUSES

__all__ = [
    "BarReporter",
    "JsonLinesReporter",
    "NullReporter",
    "Reporter",
    "choose",
]

MODES: tuple[str, ...] = ("auto", "bar", "json", "none")
#: Seconds between redraws: about ten a second.
INTERVAL = 0.1


class Reporter:
    """Base: call it with each snapshot; ``close()`` (or ``with``) ends any live display."""

    def __call__(self, snapshot: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """End the display; safe to call twice, and after a final snapshot."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class NullReporter(Reporter):
    """Shows nothing (``--progress none``)."""

    def __call__(self, snapshot: dict[str, Any]) -> None:
        return None


class _Throttle:
    """True at most once per ``interval`` seconds, and always for a change of status or phase."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self.clock = clock
        self._last = float("-inf")
        self._key: tuple[Any, Any] | None = None

    def due(self, snapshot: dict[str, Any]) -> bool:
        now = self.clock()
        key = (snapshot.get("status"), snapshot.get("current_phase"))
        if key != self._key or snapshot.get("status") in FINAL_STATUSES or now - self._last >= self.interval:
            self._key, self._last = key, now
            return True
        return False


class JsonLinesReporter(Reporter):
    """One JSON object per line, the snapshot as it is: ``{"status", "current_phase", ...}``.

    Every change of status or phase is written; counter updates at most every ``interval``.
    """

    def __init__(
        self, stream: TextIO, *, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self._throttle = _Throttle(interval, clock)

    def __call__(self, snapshot: dict[str, Any]) -> None:
        if self._throttle.due(snapshot):
            self.stream.write(json.dumps(snapshot, default=str, separators=(",", ":")) + "\n")
            self.stream.flush()


class _RowsColumn(ProgressColumn):
    """``12,345 rows  8,901 rows/s``, with the rate over the phase's own time (or a note)."""

    def render(self, task: Task) -> Text:
        rows = int(task.completed)
        rate, note = task.fields.get("rate"), task.fields.get("note")
        speed = f"{note:>17}" if note else f"{rate:>10,.0f} rows/s" if rate is not None else " " * 17
        return Text(f"{rows:>10,} rows {speed}", style="progress.data.speed", no_wrap=True)


class BarReporter(Reporter):
    """A rich live display: one bar per phase with its rows and rows/s.

    On a terminal it redraws in place (at most every ``interval``); on anything else rich prints
    the final state once, so logs get a table, not escape codes.
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        stream: TextIO | None = None,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        transient: bool = False,
    ) -> None:
        self.console = console if console is not None else Console(file=stream or sys.stderr)
        self.clock = clock
        self._throttle = _Throttle(interval, clock)
        self.progress = Progress(
            TextColumn("{task.description}", style="progress.description"),
            BarColumn(bar_width=24),
            _RowsColumn(),
            TimeElapsedColumn(),
            console=self.console,
            auto_refresh=False,
            transient=transient,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}
        self._ended: dict[str, float] = {}
        self._live = False
        self._closed = False

    def _task(self, phase: str) -> TaskID:
        if phase not in self._tasks:
            self._tasks[phase] = self.progress.add_task(phase, total=None, start=False)
        return self._tasks[phase]

    def _finish_phase(self, phase: str, label: str | None = None) -> None:
        if phase not in self._started or phase in self._ended:
            return
        self._ended[phase] = self.clock()
        task = self._tasks[phase]
        self.progress.update(task, total=self.progress.tasks[task].completed)
        if label:
            self.progress.update(task, note=label)
        self.progress.stop_task(task)

    def __call__(self, snapshot: dict[str, Any]) -> None:
        if self._closed:
            return
        if not self._live:
            self.progress.start()
            self._live = True
        current = snapshot.get("current_phase")
        status = snapshot.get("status")
        now = self.clock()
        for phase, counters in snapshot.get("progress", {}).items():
            task = self._task(phase)
            if phase == current and phase not in self._started:
                for earlier in list(self._started):
                    self._finish_phase(earlier)
                self._started[phase] = now
                self.progress.start_task(task)
            if phase != current and counters and phase not in self._started:  # done before we looked
                self._started[phase] = self._ended[phase] = now
                self.progress.start_task(task)
            rows = counters.get("rows", 0)
            fields: dict[str, Any] = {}
            if phase in self._started:
                spent = self._ended.get(phase, now) - self._started[phase]
                fields["rate"] = rows / spent if spent > 0 else None
                if phase in self._ended and spent <= 0:
                    fields["rate"] = self.progress.tasks[task].fields.get("rate")
            self.progress.update(task, completed=rows, **fields)
        if status in FINAL_STATUSES:
            label = None if status == "done" else str(status)
            for phase, task in self._tasks.items():
                if phase in self._started:
                    self._finish_phase(phase, label if phase == current else None)
                else:  # never reached: an empty bar, not a pulsing one
                    self.progress.update(task, total=1, completed=0)
            self.close()
        elif self._throttle.due(snapshot):
            self.progress.refresh()

    def close(self) -> None:
        if self._live and not self._closed:
            self.progress.refresh()
            self.progress.stop()
        self._closed = True


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal; a closed stream, None or one that is no file is not."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


def choose(mode: str, stream: TextIO | None = None) -> Reporter:
    """The reporter for ``mode``: ``auto`` is a bar on a terminal and JSON lines otherwise."""
    out = stream if stream is not None else sys.stdout
    if mode == "auto":
        mode = "bar" if is_terminal(out) else "json"
    if mode == "bar":
        return BarReporter(stream=out)
    if mode == "json":
        return JsonLinesReporter(out)
    if mode == "none":
        return NullReporter()
    raise ValueError(f"progress must be one of {', '.join(MODES)}, not {mode!r}")
