"""The release check: ``python -m build`` makes an sdist and a wheel that ``twine check`` accepts,
and the wheel holds the whole package, so publishing is one ``twine upload dist/*`` away.

A test rather than a step in ``.ci/run``: it runs wherever the suite runs (a developer's
``pytest`` included), reads like the other checks, and inspects the wheel with Python instead of
shell. It is one test (~10 s), so it runs once per suite. ``build`` and ``twine`` come with the
``dev`` extra: without them it skips with the reason shown, except under ``CI=true`` (``.ci/run``
installs ``dev``), where it fails, as the server tests do.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from servers import in_ci

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pytest_demoseed"


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed (pip install -e '.[dev]')"
        if in_ci():
            pytest.fail(f"{message} (CI=true: the release check is required)", pytrace=False)
        pytest.skip(message)


def _package_files() -> set[str]:
    """Every file of the package in the checkout (``pytest_demoseed/build/`` was once left out by
    a ``build/`` line in .gitignore: walked on disk, not from git)."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.mark.slow
def test_sdist_and_wheel_build_pass_twine_check_and_hold_every_module(tmp_path: Path) -> None:
    _require("build")
    _require("twine")
    dist = tmp_path / "dist"
    # Isolated, as a release is built (the build-system's setuptools, from the package index or
    # pip's cache); with no --sdist/--wheel the wheel is built from the sdist, proving it complete.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())

    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    expected = _package_files()
    assert "pytest_demoseed/py.typed" in expected
    assert any(name.startswith("pytest_demoseed/build/") for name in expected)
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_text = wheel.read(entry_points).decode()
    assert sorted(expected - names) == [], "missing from the wheel"
    for line in ("demoseed = pytest_demoseed.cli:main", "demoseed = pytest_demoseed.plugin"):
        assert line in entry_text, entry_text
    with tarfile.open(sdists[0]) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    assert sorted(expected - in_sdist) == [], "missing from the sdist"
    assert "README.md" in in_sdist
