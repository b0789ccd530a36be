"""Progress of a build, shaped like a job status a web job can store and serve while it runs."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_demoseed.errors import BuildCancelled

__all__ = ["FINAL_STATUSES", "STOP", "BuildCancelled", "JobStatus", "LatestStatus", "ProgressCallback"]

#: Return this from an ``on_progress`` callback to cancel the build (it is rolled back).
STOP = "stop"
#: A build's last snapshot has one of these statuses.
FINAL_STATUSES = frozenset({"done", "failed", "cancelled"})

ProgressCallback = Callable[[dict[str, Any]], Any]


@dataclass
class JobStatus:
    """``{"status", "current_phase", "progress": {phase: counters}, "errors": [...]}``.

    ``status`` moves pending -> running -> done, or to failed / cancelled. Every change is
    pushed to ``callback`` as a deep copy, so a receiver may keep or serialise it as it is.
    """

    phases: tuple[str, ...]
    callback: ProgressCallback | None = None
    status: str = "pending"
    current_phase: str | None = None
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.progress = {name: {} for name in self.phases}

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "current_phase": self.current_phase,
            "progress": copy.deepcopy(self.progress),
            "errors": copy.deepcopy(self.errors),
            "elapsed": round(time.perf_counter() - self.started, 3),
        }

    def _emit(self) -> None:
        if self.callback is None:
            return
        if self.callback(self.snapshot()) == STOP and self.status == "running":
            raise BuildCancelled("the build was cancelled by its progress callback")

    def start(self) -> None:
        self.status = "running"
        self._emit()

    def enter(self, phase: str) -> None:
        self.current_phase = phase
        self._emit()

    def update(self, phase: str, counters: Mapping[str, Any]) -> None:
        self.progress.setdefault(phase, {}).update(counters)
        self._emit()

    def fail(self, phase: str | None, message: str, extra: Mapping[str, Any] | None = None) -> None:
        self.status = "failed"
        self.errors.append({"phase": phase, "message": message, "extra": dict(extra or {})})
        self._emit_quietly()

    def cancel(self) -> None:
        self.status = "cancelled"
        self._emit_quietly()

    def finish(self) -> None:
        self.status = "done"
        self.current_phase = None
        self._emit_quietly()

    def _emit_quietly(self) -> None:
        if self.callback is not None:
            self.callback(self.snapshot())


class LatestStatus:
    """An ``on_progress`` callback that keeps the newest snapshot for another thread to read.

    A web job runs ``seed(..., on_progress=status)`` in a worker thread and serves
    ``status.latest()`` to the poller; ``status.cancel()`` makes the build stop and roll back at
    its next progress event. ``forward`` also receives every snapshot (a reporter, a DB writer).
    """

    def __init__(self, forward: ProgressCallback | None = None) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, Any] | None = None
        self._cancel = threading.Event()
        self._forward = forward

    def __call__(self, snapshot: dict[str, Any]) -> str | None:
        with self._lock:
            self._latest = snapshot
        if self._forward is not None:
            self._forward(snapshot)
        return STOP if self._cancel.is_set() else None

    def latest(self) -> dict[str, Any] | None:
        """The newest snapshot (None before the first); snapshots are copies, never mutated."""
        with self._lock:
            return self._latest

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()
