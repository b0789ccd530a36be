"""Each example project's own suite passes when run the way its README says: ``cd examples/X && pytest``."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import inner_addopts
from summary import command_fingerprint, read_summary

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = ("chat", "polls", "teams", "ledger", "async_notes")
#: Each example's tests, all of which must pass (a test added to an example is added here too).
PASSED = {"chat": 14, "polls": 15, "teams": 17, "ledger": 5, "async_notes": 6}
#: The scenarios each example's suite builds (its default, and those its markers ask for).
BUILT = {
    "chat": {"chat", "chat-small"},
    "polls": {"polls", "polls-random", "polls-weighted"},
    "teams": {"teams-baseline", "teams-ai-success", "teams-review-bottleneck"},
    # its schema comes from Alembic migrations (tests/test_alembic.py runs it on every backend)
    "ledger": {"ledger"},
    # the async fixtures (tests/test_async.py runs it on PostgreSQL and MariaDB too)
    "async_notes": {"notes"},
}
#: The public surface examples may import: the package itself and these documented modules.
PUBLIC_MODULES = {"pytest_demoseed", "pytest_demoseed.settings_kinds"}


def _clean_env(name: str = "") -> dict[str, str]:
    """The environment without this run's pytest, xdist and demoseed settings (the async
    plugins left out of a sync example's run, see conftest)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DEMOSEED_"))}
    return {**env, "PYTEST_ADDOPTS": inner_addopts(name == "async_notes")}


def run_example(name: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path}", *args],
        cwd=EXAMPLES / name,
        env=_clean_env(name),
        capture_output=True,
        text=True,
        timeout=300,
    )


def fingerprints(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """``[(scenario, fingerprint)]`` of the seed-42 specs in the run's demoseed summary."""
    found = read_summary(result.stdout).fingerprints()
    return sorted((scenario, fingerprint) for (scenario, seed), fingerprint in found.items() if seed == 42)


@pytest.fixture(scope="module")
def shuffled_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each example's suite, run once for this module and shared by the tests that read it."""
    return {
        name: run_example(name, tmp_path_factory.mktemp(name), "-p", "randomly", "--randomly-seed=3")
        for name in NAMES
    }


@pytest.mark.parametrize("name", NAMES)
def test_example_suite_passes(name: str, shuffled_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """In a shuffled order (pytest-randomly): each test sees the data as built, whatever ran before."""
    result = shuffled_runs[name]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [\d.]+s( \([\d:]+\))?", summary), summary  # nothing skipped
    assert int(summary.split()[0]) == PASSED[name], summary
    assert {scenario for scenario, _ in fingerprints(result)} == BUILT[name]


def test_example_data_does_not_change_with_test_order(
    tmp_path: Path, shuffled_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    """The shuffled run of the module's fixture against one in file order: the same data."""
    plain = run_example("teams", tmp_path / "plain", "-p", "no:randomly")
    shuffled = shuffled_runs["teams"]
    assert plain.returncode == 0 and shuffled.returncode == 0, shuffled.stdout
    assert fingerprints(plain) and fingerprints(plain) == fingerprints(shuffled)


@pytest.mark.parametrize("name", NAMES)
def test_example_has_readme_conftest_ini_and_tests(name: str) -> None:
    root = EXAMPLES / name
    for part in ("README.md", "conftest.py", "pytest.ini"):
        assert (root / part).is_file(), part
    assert list((root / "tests").glob("test_*.py"))


@pytest.mark.parametrize("name", NAMES)
def test_example_imports_only_the_public_api(name: str) -> None:
    for path in (EXAMPLES / name).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pytest_demoseed"):
                assert node.module in PUBLIC_MODULES, f"{path}: from {node.module} import ..."
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("pytest_demoseed"):
                        assert alias.name in PUBLIC_MODULES, f"{path}: import {alias.name}"


@pytest.mark.parametrize("name", NAMES)
def test_the_readme_command_seeds_the_data_the_tests_see(
    name: str, tmp_path: Path, shuffled_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    """The example README's ``demoseed ... seed`` line, run from the example's directory, writes
    the very rows its pytest run built: the same fingerprint."""
    readme = (EXAMPLES / name / "README.md").read_text(encoding="utf-8")
    (line,) = [x for x in readme.splitlines() if x.startswith("demoseed ") and " seed --db-url " in x]
    args = shlex.split(line)[1:]
    args[args.index("--db-url") + 1] = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    scenario = args[args.index("--scenario") + 1]
    done = subprocess.run(
        [sys.executable, "-m", "pytest_demoseed", *args, "--progress", "none"],
        cwd=EXAMPLES / name,
        env=_clean_env(name),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = command_fingerprint(done.stdout)
    assert printed is not None, done.stdout
    assert (scenario, printed) in fingerprints(shuffled_runs[name])
