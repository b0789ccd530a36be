"""What a user waits for ``large`` against its practical limit, whole runs (issue 16, item 2).

    python benchmarks/bench_large_limit.py [--backends sqlite,postgresql] [--repeat 2] [--write]

In interleaved rounds in one process, on the same schema (the election models' ``create_all``:
the same indexes, unique constraints and foreign keys):

- **practical limit**: ``bench.py``'s path 2 on large's whole schema (``bench.large_practical``:
  every table at large's row counts from seeded pools, raw ``executemany`` or ``COPY``);
- **practical, indexes after**: the same, its plain indexes dropped before the writes and made
  again after them, as the builder does for the empty tables it loads: the limit of that way of
  loading, so the builder's own overhead shows against it;
- **builder**: ``bench.py``'s path 4, ``build()`` of ``large`` in this process;
- **pytest**: whole ``pytest --demo-scenario=large`` minus ``pytest --demo-scenario=empty`` wall
  time (a subprocess each, one test taking ``demo_dataset``, ``-p no:xdist``, no kept snapshot):
  the build as a user meets it, with its clone, interpreter and fixture costs around it.

Ratios: builder / practical and pytest / practical (the target is 1.25x), and builder / practical
with indexes after (the builder's own cost: generation through factories, fingerprint, binding).
``--write`` puts the section in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import Backend, builder, large_practical
from results import machine_line, replace_section
from timing import clean_env, demo_pytest, timed_pytest

TEST = "def test_it(demo_dataset):\n    assert demo_dataset.counts\n"


def timed(function: Callable[[], object]) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def pytest_run(project: Path, backend: str, scenario: str) -> float:
    command = demo_pytest("test_it.py", scenario, backend, "llp")
    wall, _ = timed_pytest(command, project, clean_env(), 1, f"{backend} pytest {scenario}")
    return wall


def measure(backend: str, repeat: int, tmp: Path) -> dict[str, Any]:
    databases = Backend(backend, tmp)
    project = tmp / f"project_{backend}"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_it.py").write_text(TEST)
    times: dict[str, list[float]] = {
        "practical": [],
        "practical, indexes after": [],
        "builder": [],
        "pytest large": [],
        "pytest empty": [],
    }
    made = {"rows": 0}
    try:
        for round_ in range(repeat):
            url = databases.fresh("practical", parents=False)
            times["practical"].append(timed(lambda: large_practical(url)))  # noqa: B023 - called now
            url = databases.fresh("practical_after", parents=False)
            after = times["practical, indexes after"]
            after.append(timed(lambda: large_practical(url, indexes_after=True)))  # noqa: B023
            url = databases.fresh("builder", parents=False)
            times["builder"].append(timed(lambda: made.update(rows=builder(url, "large", {}))))  # noqa: B023
            databases.drop_all()
            times["pytest empty"].append(pytest_run(project, backend, "empty"))
            times["pytest large"].append(pytest_run(project, backend, "large"))
            print(backend, f"round {round_ + 1}", {k: round(v[-1], 2) for k, v in times.items()}, flush=True)
        return {"times": times, "rows": made["rows"]}
    finally:
        databases.drop_all()


def _cell(times: dict[str, list[float]], name: str) -> str:
    return f"{min(times[name]):.2f} s ({', '.join(f'{v:.2f}' for v in times[name])})"


def section(results: dict[str, dict[str, Any]], repeat: int, command: str) -> str:
    lines = [
        "## `large` against the practical limit, whole scenario (issue 16, item 2)",
        "",
        machine_line(command),
        "",
        f"Interleaved rounds in one process, best of {repeat} (every round in brackets); see the "
        "script's docstring for what each path does. Builder: `build()` in this process. pytest: whole "
        "wall time of `pytest --demo-scenario=large` minus that of `--demo-scenario=empty` (one test "
        "taking `demo_dataset`, no kept snapshot). Target: within 1.25x of the practical limit. The "
        "builder sets the plain indexes of the empty tables it loads aside and makes them again at the "
        "end; *practical, indexes after* is the raw path loading that way too, so builder / that is the "
        "builder's own cost (generation through the factories, fingerprint, binding).",
        "",
        "| backend | rows | practical limit | practical, indexes after | builder | pytest large - empty "
        "| builder / practical | pytest / practical | builder / practical, indexes after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, found in results.items():
        times = found["times"]
        best = {k: min(v) for k, v in times.items()}
        through_pytest = best["pytest large"] - best["pytest empty"]

        lines.append(
            f"| {backend} | {found['rows']:,} | {_cell(times, 'practical')} "
            f"| {_cell(times, 'practical, indexes after')} | {_cell(times, 'builder')} "
            f"| {through_pytest:.2f} s | **{best['builder'] / best['practical']:.2f}x** "
            f"| **{through_pytest / best['practical']:.2f}x** "
            f"| {best['builder'] / best['practical, indexes after']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        results = {
            backend: measure(backend, options.repeat, Path(name)) for backend in options.backends.split(",")
        }
    text = section(results, options.repeat, "python benchmarks/bench_large_limit.py --write")
    print(text)
    if options.write:
        replace_section("large-limit", text)


if __name__ == "__main__":
    main()
