"""Timing whole ``pytest`` runs, the way the per-test benchmarks compare suites side by side."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: A run's wall seconds and its CPU seconds (user + system of the child processes).
Timed = tuple[float, float]
#: The servers (tests/servers.py's defaults), as URL prefixes a database name follows.
SERVERS = {
    "postgresql": "postgresql+psycopg://root@127.0.0.1:5432/",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/",
}


def clean_env(pythonpath: str | None = None) -> dict[str, str]:
    """This environment without demo settings, pytest options or ``PYTHONPATH``; with
    ``pythonpath`` first on the path (an older copy of the package, say) if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEMOSEED_", "PYTEST_", "PYTHONPATH"))}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def demo_pytest(test_file: str, scenario: str, backend: str, label: str) -> list[str]:
    """``python -m pytest`` of ``test_file`` in one process (no xdist, randomly or cache), on
    ``scenario`` without progress output and, on a server, in a fresh database named after
    ``label``."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += ["-p", "no:xdist", f"--demo-scenario={scenario}", "--demo-progress=none", test_file]
    if backend in SERVERS:
        command.append(f"--demo-db-url={SERVERS[backend]}demobench_{label}_{uuid.uuid4().hex[:6]}")
    return command


def timed_pytest(command: Sequence[str], cwd: Path, env: Mapping[str, str], passed: int, label: str) -> Timed:
    """Run ``command`` (a pytest run) and time it; exit with its output unless ``passed`` tests passed."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True)
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if done.returncode != 0 or f"{passed} passed" not in done.stdout:
        raise SystemExit(f"{label} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return wall, cpu


def best_interleaved(
    arms: Mapping[str, Callable[[], Timed]], repeat: int, label: str
) -> tuple[dict[str, float], dict[str, float]]:
    """One warm-up run of each arm, then ``repeat`` rounds running each arm once in turn; the best
    wall and the best CPU seconds per arm (the rounds' wall times are printed)."""
    for run in arms.values():
        run()
    times: dict[str, list[Timed]] = {arm: [] for arm in arms}
    for _ in range(repeat):
        for arm, run in arms.items():
            times[arm].append(run())
    print(label, {arm: [round(wall, 3) for wall, _ in found] for arm, found in times.items()}, flush=True)
    best = {arm: min(wall for wall, _ in found) for arm, found in times.items()}
    return best, {arm: min(cpu for _, cpu in found) for arm, found in times.items()}
