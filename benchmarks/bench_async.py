"""What an async test pays for ``demo_async_session`` + ``demo_async_root`` (issue 13).

    python benchmarks/bench_async.py [--backends sqlite,postgresql] [--tests 1000] [--repeat 3] [--write]

Measured as ``bench_per_test.py`` measures the sync fixtures: whole ``pytest`` wall time (a
subprocess each, interpreter start included, no xdist) of two suites of ``--tests`` async tests
(pytest-asyncio, strict mode) on ``baseline``, interleaved, best of ``--repeat`` each after a
warm-up run of each:

- ``isolated``: each test takes ``demo_async_session`` and ``demo_async_root``;
- ``dataset``: each test takes only ``demo_dataset`` (same build and clone, same async test).

Per test = (isolated - dataset) / tests, in two loop set-ups: pytest-asyncio's default (a loop per
test) and a session-wide loop (``asyncio_default_test_loop_scope = session``). In both the test
reuses a pooled connection: aiosqlite's answer on any loop, asyncpg's and aiomysql's live on the
plugin's own loop thread (``storage/driver_loop.py``). Targets: < 2 ms SQLite, < 3 ms PostgreSQL
(MariaDB: no target, measured with ``--backends mariadb``). ``--write`` puts the section in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from importlib.metadata import version
from pathlib import Path

from results import machine_line, replace_section
from timing import Timed, best_interleaved, clean_env, demo_pytest, timed_pytest

TARGETS_MS = {"sqlite": 2.0, "postgresql": 3.0}
SUITES = {
    "isolated": "async def test_it(i, demo_async_session, demo_async_root):\n    pass\n",
    "dataset": "async def test_it(i, demo_dataset):\n    pass\n",
}
HEADER = "import pytest\n\n@pytest.mark.asyncio\n@pytest.mark.parametrize('i', range({n}))\n"
LOOPS = {
    "a loop per test (default)": "function",
    "one loop for the session": "session",
}


def run_suite(project: Path, backend: str, suite: str, loop: str, tests: int) -> Timed:
    """Whole wall seconds of one ``pytest`` run of the suite, and its CPU seconds (user + system)."""
    command = demo_pytest(f"test_{suite}.py", "baseline", backend, "as")
    command += [
        "-o",
        f"asyncio_default_test_loop_scope={loop}",
        "-o",
        f"asyncio_default_fixture_loop_scope={loop}",
    ]
    return timed_pytest(command, project, clean_env(), tests, f"{backend} {suite}")


def measure(
    project: Path, backend: str, loop: str, tests: int, repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Best wall seconds and best CPU seconds per suite, interleaved rounds after a warm-up."""
    arms = {suite: functools.partial(run_suite, project, backend, suite, loop, tests) for suite in SUITES}
    return best_interleaved(arms, repeat, f"{backend} {loop}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        project = Path(name)
        (project / "pytest.ini").write_text("[pytest]\n")  # rootdir here, no project's addopts
        for suite, body in SUITES.items():
            (project / f"test_{suite}.py").write_text(HEADER.format(n=options.tests) + body)
        for backend in options.backends.split(","):
            for label, loop in LOOPS.items():
                best, cpu = measure(project, backend, loop, options.tests, options.repeat)
                per_test = (best["isolated"] - best["dataset"]) / options.tests * 1000
                cpu_per_test = (cpu["isolated"] - cpu["dataset"]) / options.tests * 1000
                limit = TARGETS_MS.get(backend)
                met = "met" if limit is not None and per_test < limit else "NOT met"
                verdict = "n/a" if limit is None else f"< {limit:g} ms: {met}"
                rows.append(
                    f"| {backend} | {label} | {best['isolated']:.2f} s | {best['dataset']:.2f} s "
                    f"| **{per_test:.2f} ms** | {verdict} | {cpu_per_test:.2f} ms |"
                )
    tests = f"{options.tests:,}"
    versions = ", ".join(
        f"{package} {version(package)}"
        for package in ("pytest-asyncio", "SQLAlchemy", "aiosqlite", "asyncpg", "aiomysql")
    )
    lines = [
        "## Per test: `demo_async_session` + `demo_async_root`, whole-run wall time (issue 13)",
        "",
        machine_line("python benchmarks/bench_async.py --write") + f" {versions}.",
        "",
        f"Whole `pytest` wall time (a subprocess each, `-p no:xdist`, `--demo-scenario=baseline`, "
        f"pytest-asyncio strict mode) of two suites of {tests} async tests, interleaved, best of "
        f"{options.repeat} each after a warm-up run of each: `isolated` (each test takes "
        f"`demo_async_session` and `demo_async_root`) and `dataset` (each takes only `demo_dataset`: "
        f"same build, clone and async test). **Per test** = (isolated - dataset) / {tests}. In every "
        f"loop set-up the test reuses a pooled connection: an aiosqlite connection answers on the "
        f"caller's loop, and asyncpg's and aiomysql's (which belong to the loop that opened them) live "
        f"on the plugin's own loop thread, so a loop per test costs no connect. "
        f"Per test, CPU: "
        f"the same difference in the pytest process's CPU time (user + system, best of {options.repeat}; "
        f"the server's share not counted), which other work on a shared machine disturbs less.",
        "",
        "| backend | event loop | isolated | dataset | per test | target | per test, CPU |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: |",
        *rows,
    ]
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("async", text)


if __name__ == "__main__":
    main()
