"""What installing the plugin costs a pytest run that uses no demo data (issue 10: target < 50 ms).

    python benchmarks/bench_plugin_cost.py [--repeat 7] [--write]

Times whole ``python -m pytest -q -p no:cacheprovider test_one.py`` subprocess runs of a one-test
file that uses no demo fixture, with the plugin (as installed: both ``pytest11`` entry points)
and with ``-p no:demoseed -p no:demoseed-election``, interleaved, best of ``--repeat`` each, after
one warm-up run of each; CPU time (user + system, from ``getrusage``) beside it, which other work
on a shared machine disturbs less than wall time. A second pair of arms turns off the other
installed plugins that import heavy packages themselves (``OTHERS_OFF``), so only ours differs
from bare pytest. Also lists which heavy packages loading the entry points imports (must be
none). Prints a Markdown section; ``--write`` puts it in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from results import machine_line, replace_section

HEAVY = ("sqlalchemy", "faker", "factory", "rich", "filelock", "click")
TEST_FILE = "def test_one():\n    assert 1 + 1 == 2\n"
DISABLED = ["-p", "no:demoseed", "-p", "no:demoseed-election"]
#: The other installed plugins that import heavy packages themselves (Faker ships a pytest11
#: plugin that imports faker): off in the second pair of arms, so only ours differs from bare pytest.
OTHERS_OFF = ["-p", "no:faker", "-p", "no:randomly", "-p", "no:xdist", "-p", "no:xdist.looponfail"]

#: Run in a fresh interpreter: what importing the two entry points' modules pulls in.
IMPORT_PROBE = f"""
import sys
import pytest
before = set(sys.modules)
import pytest_demoseed.plugin, pytest_demoseed.election.fixtures
heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(len(set(sys.modules) - before), ",".join(heavy) or "-")
"""


def clean_env() -> dict[str, str]:
    """No demo input from the environment, no extra options: the plain developer's run."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DEMOSEED_") and k != "PYTEST_ADDOPTS"}


def pytest_run(project: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one whole pytest run."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, "test_one.py"]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=clean_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if done.returncode != 0 or "1 passed" not in done.stdout:
        raise SystemExit(f"pytest {' '.join(extra)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, cpu


def import_probe() -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], env=clean_env(), capture_output=True, text=True, check=True
    )
    count, heavy = done.stdout.split()
    return int(count), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        project = Path(name)
        (project / "test_one.py").write_text(TEST_FILE)
        (project / "pytest.ini").write_text("[pytest]\n")  # rootdir here, no project's addopts
        arms: dict[str, list[str]] = {"plugin": [], "disabled": DISABLED, "plugin, others off": OTHERS_OFF}
        arms["disabled, others off"] = [*OTHERS_OFF, *DISABLED]
        times: dict[str, list[tuple[float, float]]] = {arm: [] for arm in arms}
        for extra in arms.values():  # warm-ups: file cache, .pyc files
            pytest_run(project, extra)
        for _ in range(options.repeat):
            for arm, extra in arms.items():
                times[arm].append(pytest_run(project, extra))
    best = {arm: min(wall for wall, _ in found) for arm, found in times.items()}
    median = {arm: sorted(wall for wall, _ in found)[len(found) // 2] for arm, found in times.items()}
    best_cpu = {arm: min(cpu for _, cpu in found) for arm, found in times.items()}
    difference_ms = (best["plugin"] - best["disabled"]) * 1000
    bare_difference_ms = (best["plugin, others off"] - best["disabled, others off"]) * 1000
    cpu_difference_ms = (best_cpu["plugin"] - best_cpu["disabled"]) * 1000
    bare_cpu_difference_ms = (best_cpu["plugin, others off"] - best_cpu["disabled, others off"]) * 1000
    # Each round ran both arms back to back: the median of those paired differences shrugs off a
    # round that another process slowed down, where a best-of-N can pick one lucky run.
    paired = sorted(a[0] - b[0] for a, b in zip(times["plugin"], times["disabled"], strict=True))
    paired_ms = paired[len(paired) // 2] * 1000
    modules, heavy = import_probe()
    lines = [
        "## Plugin cost for a run that uses no demo data (issue 10)",
        "",
        machine_line("python benchmarks/bench_plugin_cost.py --write")
        + f" pytest {version('pytest')}, pytest-demoseed {version('pytest-demoseed')}.",
        "",
        f"Whole `python -m pytest -q -p no:cacheprovider test_one.py` runs (a subprocess each) of a "
        f"one-test file that uses no demo fixture, in a directory of its own, with the plugin "
        f"installed and with `{' '.join(DISABLED)}`; interleaved, best of {options.repeat} each after a "
        f"warm-up run of each.",
        "",
        "| run | wall, best | wall, median | CPU (user + sys), best |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {arm}: `{' '.join(arms[arm]) or '(no option)'}` | {best[arm] * 1000:.0f} ms | {median[arm] * 1000:.0f} ms | {best_cpu[arm] * 1000:.0f} ms |"
            for arm in arms
        ),
        "",
        f"**Cost of the plugin: {difference_ms:.0f} ms** of wall time (best with it minus best without; "
        f"target < 50 ms: {'met' if difference_ms < 50 else 'NOT met'}), {cpu_difference_ms:.0f} ms of CPU "
        f"time; with the other heavy plugins off as well: {bare_difference_ms:.0f} ms wall, "
        f"{bare_cpu_difference_ms:.0f} ms CPU. Median of the {options.repeat} paired wall-time differences "
        f"(each round ran both arms back to back): {paired_ms:.0f} ms.",
        "",
        f"Loading both entry points' modules imports {modules} modules, of them heavy "
        f"({', '.join(HEAVY)}): {heavy if heavy != '-' else 'none'}.",
    ]
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("plugin-cost", text)


if __name__ == "__main__":
    main()
