"""Live build progress inside a pytest run: rows and rows/s per phase, without breaking pytest's lines.

Builds run inside fixture setup, while pytest's output capture is on and pytest's own line
(``test_x.py ..`` or ``test_x.py::test_a``) is half written. So the display

- stays silent for a build's first ``delay`` seconds (a quick build never flickers);
- writes through pytest's terminal writer with capture suspended, using ``write_raw`` so the
  writer's idea of its current line is untouched;
- on a terminal draws its lines *below* pytest's line, redraws them in place at most ten times a
  second, and at the end erases them and puts the cursor back where pytest left it;
- on anything else (``--demo-progress=bar`` into a pipe or a CI log) prints each phase's line
  once, when the phase ends, then writes pytest's half line again so its next result lands
  after it.

xdist workers show nothing (their output is not the user's terminal); the terminal summary
reports every build, per phase and per worker.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from pytest_demoseed.build.progress import FINAL_STATUSES
from pytest_demoseed.report.command import INTERVAL, Reporter, is_terminal

__all__ = ["PhaseTracker", "PytestLiveProgress", "live_progress_for"]

#: A build shorter than this shows nothing live.
DELAY = 1.0
#: At most this many lines on a terminal: the latest phases, after a line counting the others.
MAX_LINES = 8


class TerminalWriterLike(Protocol):
    """The parts of pytest's ``TerminalWriter`` the display uses."""

    @property
    def fullwidth(self) -> int: ...

    @property
    def width_of_current_line(self) -> int: ...

    def write_raw(self, msg: str, *, flush: bool = False) -> None: ...

    def flush(self) -> None: ...


@dataclass
class _Phase:
    rows: int = 0
    started: float | None = None
    ended: float | None = None


class PhaseTracker:
    """Follows one build's snapshots: each phase's rows, and when it started and ended.

    Times are the snapshots' own ``elapsed`` (the build's clock), so rates do not depend on
    when the display looked.
    """

    def __init__(self) -> None:
        self.phases: dict[str, _Phase] = {}
        self.current: str | None = None
        self.elapsed = 0.0
        self.status = "pending"

    def update(self, snapshot: dict[str, Any]) -> list[str]:
        """Take a snapshot; return the phases it ended."""
        self.elapsed = float(snapshot.get("elapsed", self.elapsed))
        self.status = str(snapshot.get("status", self.status))
        for name, counters in snapshot.get("progress", {}).items():
            if "rows" in counters:
                self.phases.setdefault(name, _Phase()).rows = int(counters["rows"])
        ended: list[str] = []
        current = snapshot.get("current_phase")
        if self.status in FINAL_STATUSES:
            current = None
        if current != self.current:
            if self.current is not None:
                self.phases[self.current].ended = self.elapsed
                ended.append(self.current)
            if current is not None:
                self.phases.setdefault(current, _Phase()).started = self.elapsed
            self.current = current
        return ended

    def line(self, name: str) -> str:
        """``electors      123,456 rows     85,210 rows/s    1.45s``."""
        phase = self.phases[name]
        start = phase.started if phase.started is not None else self.elapsed
        spent = (phase.ended if phase.ended is not None else self.elapsed) - start
        rate = f"{phase.rows / spent:>10,.0f} rows/s" if spent >= 0.01 and phase.rows else " " * 17
        rows = f"{phase.rows:>11,} {'row ' if phase.rows == 1 else 'rows'}"
        return f"demoseed {name:<14} {rows} {rate} {spent:>7.2f}s"

    def started(self) -> list[str]:
        return [name for name, phase in self.phases.items() if phase.started is not None]


class PytestLiveProgress(Reporter):
    """An ``on_progress`` callback for builds inside a pytest run (see the module's docstring).

    One instance serves every build of the run: a final status ends the display and the next
    snapshot starts a new one.
    """

    def __init__(
        self,
        writer: TerminalWriterLike,
        *,
        terminal: bool,
        suspend_capture: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
        delay: float = DELAY,
        interval: float = INTERVAL,
    ) -> None:
        self.writer = writer
        self.terminal = terminal
        self.suspend_capture = suspend_capture
        self.delay = delay
        self.interval = interval
        self._reset()

    def _reset(self) -> None:
        self.tracker = PhaseTracker()
        self._shown = False  # the display has started for this build
        self._drawn = 0  # lines on screen (terminal)
        self._moved_down = False  # we left pytest's half line for one of our own
        self._last_draw = float("-inf")
        self._printed: set[str] = set()  # phases printed (not a terminal)

    def __call__(self, snapshot: dict[str, Any]) -> None:
        if float(snapshot.get("elapsed", 0.0)) < self.tracker.elapsed:
            self.close()  # a new build, after one that raised before its final snapshot
        ended = self.tracker.update(snapshot)
        final = self.tracker.status in FINAL_STATUSES
        if self._shown or self.tracker.elapsed >= self.delay:  # a quick build shows nothing
            text = self._terminal_text(bool(ended), final) if self.terminal else self._log_text(final)
            self._write(text)
        if final:
            self._reset()

    def close(self) -> None:
        """End a display a build left open (it raised before its final snapshot)."""
        if self._shown and self.tracker.status not in FINAL_STATUSES:
            self.tracker.status = "cancelled"
            self._write(self._terminal_text(False, True) if self.terminal else self._log_text(True))
        self._reset()

    def _write(self, text: str) -> None:
        if text:
            with self.suspend_capture():
                self.writer.write_raw(text, flush=True)

    # -- a terminal: redraw in place, erase at the end -----------------------------------------
    def _terminal_text(self, phase_changed: bool, final: bool) -> str:
        if final:
            return self._erase()
        if self._shown and not phase_changed and self.tracker.elapsed - self._last_draw < self.interval:
            return ""
        self._last_draw = self.tracker.elapsed
        started = self.tracker.started()
        lines = [self.tracker.line(name) for name in started[-MAX_LINES:]]
        if len(started) > MAX_LINES:  # stay within the screen, so every line can be erased
            lines[0] = f"demoseed ... {len(started) - MAX_LINES + 1} earlier phases done"
        return self._draw(lines)

    def _draw(self, lines: list[str]) -> str:
        width = max(self.writer.fullwidth - 1, 20)
        out = []
        if not self._shown:
            self._shown = True
            if self.writer.width_of_current_line > 0:
                out.append("\n")
                self._moved_down = True
        else:
            out.append("\r" + _up(self._drawn - 1))
        out.append("\n".join("\x1b[2K" + line[:width] for line in lines))
        out.append("\x1b[J")  # anything a longer earlier draw left below
        self._drawn = len(lines)
        return "".join(out)

    def _erase(self) -> str:
        if not self._shown:
            return ""
        out = "\r" + _up(self._drawn - 1) + "\x1b[J"
        if self._moved_down:
            column = self.writer.width_of_current_line % max(self.writer.fullwidth, 1)
            out += _up(1) + f"\x1b[{column + 1}G"
        return out

    # -- not a terminal: one line per phase as it ends --------------------------------------------
    def _log_text(self, final: bool) -> str:
        lines = []
        for name in self.tracker.started():
            phase = self.tracker.phases[name]
            if name not in self._printed and (phase.ended is not None or final):
                self._printed.add(name)
                lines.append(self.tracker.line(name))
        if final:
            lines.append(f"demoseed build {self.tracker.status} in {self.tracker.elapsed:.2f}s")
        text = "".join(line + "\n" for line in lines)
        if text and not self._shown:
            self._shown = True
            if self.writer.width_of_current_line > 0:
                text = "\n" + text
                self._moved_down = True
        if final and self._moved_down:
            text += _current_line(self.writer)  # pytest's half line again, for its next result
        return text


def _up(lines: int) -> str:
    return f"\x1b[{lines}A" if lines > 0 else ""


def _current_line(writer: Any) -> str:
    # pytest's TerminalWriter keeps the text of its current line; nothing public exposes it
    return str(getattr(writer, "_current_line", ""))


def live_progress_for(config: Any, mode: str) -> PytestLiveProgress | None:
    """``auto``: live lines on a terminal only; ``bar``: also into a pipe or log; ``none``: off."""
    if mode == "none":
        return None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:  # -p no:terminal
        return None
    writer = config.get_terminal_writer()
    capture = config.pluginmanager.get_plugin("capturemanager")
    suspend = capture.global_and_fixture_disabled if capture is not None else contextlib.nullcontext
    with suspend():  # under fd capture, stdout's file descriptor is a temporary file
        terminal = is_terminal(getattr(writer, "_file", None) or sys.__stdout__)
    if mode == "auto" and not terminal:
        return None
    return PytestLiveProgress(writer, terminal=terminal, suspend_capture=suspend)
