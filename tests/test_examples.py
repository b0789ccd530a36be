"""Each example project's own suite passes when run the way its README says: ``cd examples/X && pytest``."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = ("chat", "polls", "teams")
#: The public surface examples may import: the package itself and these documented modules.
PUBLIC_MODULES = {"pytest_demoseed", "pytest_demoseed.settings_kinds", "pytest_demoseed.samples"}


def _clean_env() -> dict[str, str]:
    """The environment without this run's pytest, xdist and demoseed settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DEMOSEED_"))}


def run_example(name: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path}", *args],
        cwd=EXAMPLES / name,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def fingerprints(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """``[(scenario, fingerprint)]`` from the run's demoseed summary."""
    return sorted(re.findall(r"^(\S+) seed=42 fingerprint=(\w+)", result.stdout, re.M))


@pytest.mark.parametrize("name", NAMES)
def test_example_suite_passes(name: str, tmp_path: Path) -> None:
    """In a shuffled order (pytest-randomly): each test sees the data as built, whatever ran before."""
    result = run_example(name, tmp_path, "-p", "randomly", "--randomly-seed=3")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [\d.]+s( \([\d:]+\))?", summary), summary
    assert int(summary.split()[0]) >= 10
    assert fingerprints(result)


def test_example_data_does_not_change_with_test_order(tmp_path: Path) -> None:
    plain = run_example("teams", tmp_path / "plain", "-p", "no:randomly")
    shuffled = run_example("teams", tmp_path / "shuffled", "-p", "randomly", "--randomly-seed=3")
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
