"""What a test pays for ``demo_session`` + ``demo_election``, as a user's suite pays it (issue 16).

    python benchmarks/bench_per_test.py [--backends sqlite,postgresql] [--tests 1000] [--repeat 5]
                                        [--before DIR] [--write]

Whole ``pytest`` wall time (a subprocess each, interpreter start included, no xdist) of three
suites of ``--tests`` tests on ``baseline``, interleaved, best of ``--repeat`` each after a
warm-up run of each:

- ``isolated``: each test takes ``demo_session`` and ``demo_election``;
- ``dataset``: each test takes only ``demo_dataset`` (the same scenario, built and cloned the same
  way: the run differs from ``isolated`` only by the per-test path);
- ``plain``: each test takes no demo fixture (the plugin stays inactive).

The per-test cost is (isolated - dataset) / tests: the target (< 0.5 ms SQLite, < 1 ms
PostgreSQL). (isolated - plain) / tests is shown too: it also spreads the run's one-off costs
(SQLAlchemy's import, the build, the clone) over the tests. ``--before DIR`` also runs the
``isolated`` and ``dataset`` suites with ``DIR`` first on ``PYTHONPATH`` (a copy of an older
``pytest_demoseed`` package, e.g. ``git archive <commit> pytest_demoseed | tar -x -C DIR``),
in the same rounds, for a before/after row. Prints a Markdown section; ``--write`` puts it in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from results import machine_line, replace_section
from timing import Timed, best_interleaved, clean_env, demo_pytest, timed_pytest

TARGETS_MS = {"sqlite": 0.5, "postgresql": 1.0}
SUITES = {
    "isolated": "def test_it(i, demo_session, demo_election):\n    pass\n",
    "dataset": "def test_it(i, demo_dataset):\n    pass\n",
    "plain": "def test_it(i):\n    pass\n",
}
HEADER = "import pytest\n\n@pytest.mark.parametrize('i', range({n}))\n"


def run_suite(project: Path, backend: str, suite: str, tests: int, pythonpath: str | None = None) -> Timed:
    """Whole wall seconds of one ``pytest`` run of the suite, and its CPU seconds (user + system)."""
    command = demo_pytest(f"test_{suite}.py", "baseline", backend, "pt")
    return timed_pytest(command, project, clean_env(pythonpath), tests, f"{backend} {suite}")


def measure(
    project: Path, backend: str, tests: int, repeat: int, before: str | None
) -> tuple[dict[str, float], dict[str, float]]:
    """Best whole-run seconds per suite (``before isolated``, ``before dataset``: with ``before``
    on PYTHONPATH), interleaved rounds after one warm-up of each; and the best CPU seconds."""
    arms = {suite: functools.partial(run_suite, project, backend, suite, tests) for suite in SUITES}
    if before:
        arms |= {
            f"before {suite}": functools.partial(run_suite, project, backend, suite, tests, before)
            for suite in ("isolated", "dataset")
        }
    return best_interleaved(arms, repeat, backend)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--before", help="a directory holding an older pytest_demoseed package, for a before row"
    )
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    parser.add_argument("--before-label", default="the package as committed before issue 16 (`git archive`)")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        project = Path(name)
        (project / "pytest.ini").write_text("[pytest]\n")  # rootdir here, no project's addopts
        for suite, body in SUITES.items():
            (project / f"test_{suite}.py").write_text(HEADER.format(n=options.tests) + body)
        for backend in options.backends.split(","):
            best, cpu = measure(project, backend, options.tests, options.repeat, options.before)
            limit = TARGETS_MS.get(backend)
            for code in ("before ", "") if options.before else ("",):
                per_test = (best[f"{code}isolated"] - best[f"{code}dataset"]) / options.tests * 1000
                all_in = (best[f"{code}isolated"] - best["plain"]) / options.tests * 1000
                cpu_per_test = (cpu[f"{code}isolated"] - cpu[f"{code}dataset"]) / options.tests * 1000
                met = "met" if limit is not None and per_test < limit else "NOT met"
                verdict = "n/a" if limit is None else f"< {limit:g} ms: {met}"
                rows.append(
                    f"| {backend} | {code.strip() or 'now'} | {best[f'{code}isolated']:.2f} s "
                    f"| {best[f'{code}dataset']:.2f} s | {best['plain']:.2f} s | **{per_test:.2f} ms** "
                    f"| {verdict} | {cpu_per_test:.2f} ms | {all_in:.2f} ms |"
                )
    tests = f"{options.tests:,}"
    lines = [
        "## Per test: `demo_session` + `demo_election`, whole-run wall time (issue 16)",
        "",
        machine_line(" ".join(["python benchmarks/bench_per_test.py", *sys.argv[1:]]))
        + f" pytest {version('pytest')}, SQLAlchemy {version('SQLAlchemy')}.",
        "",
        f"Whole `pytest` wall time (a subprocess each, interpreter start included, `-p no:xdist`, "
        f"`--demo-scenario=baseline`) of three suites of {tests} tests, interleaved, best of "
        f"{options.repeat} each after a warm-up run of each: `isolated` (each test takes `demo_session` "
        f"and `demo_election`), `dataset` (each takes only `demo_dataset`: same build and clone) and "
        f"`plain` (no demo fixture; the plugin stays inactive). **Per test** = (isolated - dataset) / "
        f"{tests}: what the per-test path costs. All in = (isolated - plain) / {tests}: the same plus "
        f"the run's one-off costs (SQLAlchemy's import, the build, the clone) spread over the tests. "
        f"Per test, CPU: the same difference in the pytest process's CPU time (user + system, best of "
        f"{options.repeat}; the server's share on PostgreSQL not counted), which other work on a shared "
        f"machine disturbs less than wall time."
        + (
            f" `before`: the same suites with {options.before_label} first on PYTHONPATH, in the same rounds."
            if options.before
            else ""
        ),
        "",
        "| backend | code | isolated | dataset | plain | per test | target | per test, CPU | all in, per test |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
        *rows,
    ]
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("per-test", text)


if __name__ == "__main__":
    main()
