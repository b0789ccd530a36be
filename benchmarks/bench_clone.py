"""Build once and clone vs build per worker, on SQLite, PostgreSQL and MariaDB (one command).

    python benchmarks/bench_clone.py [--scenarios baseline,large] [--backends sqlite,postgresql,mariadb] [--write]

1. Per backend and scenario: the time one worker pays to build the snapshot, and the time each
   other worker pays to clone it (PostgreSQL: both CREATE DATABASE strategies).
2. The wall time of a small suite (12 tests) under ``pytest -n 3``: built once and cloned, against
   every worker building its own (``DEMOSEED_BUILD_PER_WORKER=1``: what pytest-django users pay).
Prints a Markdown section; ``--write`` puts it in benchmarks/RESULTS.md. Every database it makes
is dropped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from results import machine_line, replace_section

import pytest_demoseed.election.scenarios  # noqa: F401  (registers the scenarios)
from pytest_demoseed.scenario.spec import resolve_spec
from pytest_demoseed.storage.backends import backend_for
from pytest_demoseed.storage.backends import postgresql as backend_postgresql
from pytest_demoseed.storage.provider import DatabaseProvider

URLS = {
    "sqlite": "sqlite:///{tmp}/bench.sqlite",
    "postgresql": "postgresql+psycopg://root@127.0.0.1:5432/bench_{tag}",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/bench_{tag}",
}
SUITE = """
import pytest, sqlalchemy as sa
from pytest_demoseed.election.models import Elector

@pytest.mark.parametrize("i", range(12))
def test_electors(demo_session, demo_dataset, i):
    assert demo_session.scalar(sa.select(sa.func.count(Elector.id))) == demo_dataset.counts["electors"]
"""


def build_vs_clone(backend: str, scenario: str, tmp: Path) -> dict[str, float]:
    url = URLS[backend].format(tmp=tmp, tag=uuid.uuid4().hex[:6])
    spec = resolve_spec(scenario, 42, {})
    run_id = uuid.uuid4().hex[:8]
    snapshots = tmp / f"snap-{run_id}"
    providers = [
        DatabaseProvider(url, spec, worker=w, snapshot_dir=snapshots, run_id=run_id) for w in ("gw0", "gw1")
    ]
    providers[0].backend.start_run(snapshots)
    out: dict[str, float] = {}
    try:
        first = providers[0].get(spec).dataset.extra
        out["build"] = first["snapshot_build_seconds"]
        strategies = ["WAL_LOG", "FILE_COPY"] if backend == "postgresql" else [""]
        for strategy in strategies:
            backend_postgresql.CLONE_STRATEGY = strategy or backend_postgresql.CLONE_STRATEGY
            for provider in providers[1:]:
                provider._provided.clear()
                times = []
                for _ in range(3):
                    provider.close()
                    provider._provided.clear()
                    times.append(provider.get(spec).dataset.extra["clone_seconds"])
                out[f"clone {strategy}".strip()] = min(times)
        backend_postgresql.CLONE_STRATEGY = "WAL_LOG"
    finally:
        for provider in providers:
            provider.close()
        providers[0].backend.drop_snapshots(snapshots)
        providers[0].backend.end_run()
    return out


def suite_wall(backend: str, scenario: str, tmp: Path, per_worker: bool) -> float:
    project = tmp / f"suite-{uuid.uuid4().hex[:6]}"
    project.mkdir()
    (project / "test_suite.py").write_text(SUITE)
    url = URLS[backend].format(tmp=project, tag=uuid.uuid4().hex[:6])
    env = {**os.environ, "DEMOSEED_BUILD_PER_WORKER": "1" if per_worker else "0"}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "3"]
    args += ["--demo-db-url", url, "--demo-scenario", scenario, "--demo-progress", "none"]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-2000:])
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="baseline,large")
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    options = parser.parse_args()
    scenarios, backends = options.scenarios.split(","), options.backends.split(",")
    lines = [
        "## Build once and clone, per worker (issue 4)",
        "",
        "One worker builds the snapshot (`build`); every other worker clones it (best of 3). The suites "
        "are 12 small tests under `pytest -n 3`: built once and cloned, against every worker building its "
        "own (`DEMOSEED_BUILD_PER_WORKER=1`, what pytest-django users pay); whole `pytest` wall time.",
        "",
        "| backend | scenario | build (1 worker) | clone (each other worker) | clone / build |"
        " suite -n 3, build once + clone | suite -n 3, each worker builds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for backend in backends:
            backend_for(URLS[backend].format(tmp=tmp, tag="x"))
            for scenario in scenarios:
                times = build_vs_clone(backend, scenario, tmp)
                clones = {k: v for k, v in times.items() if k.startswith("clone")}
                best = min(clones.values())
                shown = ", ".join(
                    f"{v:.4f}s" + (f" ({k[6:]})" if k != "clone" else "") for k, v in clones.items()
                )
                once = suite_wall(backend, scenario, tmp, per_worker=False)
                each = suite_wall(backend, scenario, tmp, per_worker=True)
                row = (
                    f"| {backend} | {scenario} | {times['build']:.3f}s | {shown} | {best / times['build']:.2f} |"
                    f" {once:.1f}s | {each:.1f}s |"
                )
                print(row, flush=True)
                lines.append(row)
    lines.insert(2, machine_line("python benchmarks/bench_clone.py --write") + "\n")
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("clone", text)


if __name__ == "__main__":
    main()
