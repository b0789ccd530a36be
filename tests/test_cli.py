"""The demoseed command through a real subprocess against a SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_demoseed", *args], capture_output=True, text=True, timeout=120
    )


def test_seed_twice_gives_the_same_fingerprint(tmp_path: Path) -> None:
    prints = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        result = run("seed", "--db-url", url, "--scenario", "small", "--create-schema")
        assert result.returncode == 0, result.stderr
        assert "electors 50" in result.stdout
        prints.append(result.stdout.split("fingerprint ")[1].strip())
    assert prints[0] == prints[1]


def test_unknown_scenario_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = run("seed", "--db-url", f"sqlite:///{tmp_path}/x.sqlite", "--scenario", "nope")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown scenario 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_missing_tables_without_create_schema_is_an_error(tmp_path: Path) -> None:
    result = run("seed", "--db-url", f"sqlite:///{tmp_path}/x.sqlite", "--scenario", "small")
    assert result.returncode != 0
    assert "create the schema first" in result.stderr and "Traceback" not in result.stderr


def test_list_shows_every_builtin_scenario() -> None:
    result = run("list")
    assert result.returncode == 0
    for name in ("baseline", "small", "empty", "landslide", "close-race", "low-turnout", "large"):
        assert f"\n{name}: " in "\n" + result.stdout
