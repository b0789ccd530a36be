"""Backend pieces that need no inner run: driver-error matching, SQLite claims and sweeping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_demoseed.errors import ScenarioError, ServerError
from pytest_demoseed.storage.backends import SQLiteBackend, backend_for


def _reimported_driver_error(package: str) -> type[Exception]:
    """An error class as a driver imported a second time raises it: same names, other classes."""
    error = type("Error", (Exception,), {"__module__": package})
    return type("OperationalError", (error,), {"__module__": f"{package}.errors"})


@pytest.mark.parametrize(
    ("url", "package"),
    [("postgresql+psycopg://root@127.0.0.1/x", "psycopg"), ("mysql+pymysql://root@127.0.0.1/x", "pymysql")],
)
def test_driver_errors_of_a_reimported_driver_are_one_line_server_errors(url: str, package: str) -> None:
    backend = backend_for(url)
    reimported = _reimported_driver_error(package)
    assert backend.is_driver_error(reimported("connection refused"))  # type: ignore[attr-defined]
    assert not backend.is_driver_error(ValueError("mine"))  # type: ignore[attr-defined]
    assert not backend.is_driver_error(_reimported_driver_error("otherdriver")("x"))  # type: ignore[attr-defined]
    refused = pytest.raises(ServerError, match=r"^cannot connect: connection refused$")
    with refused, backend.errors("cannot connect"):  # type: ignore[attr-defined]
        raise reimported("connection refused\nDETAIL: more")
    with pytest.raises(ValueError), backend.errors("cannot connect"):  # type: ignore[attr-defined]
        raise ValueError("not the driver's: passes through")


def test_sqlite_file_claimed_by_a_live_run_makes_the_other_fall_back(tmp_path: Path) -> None:
    url, fallback = f"sqlite:///{tmp_path / 'app_gw0.sqlite'}", f"sqlite:///{tmp_path / 'app_r2_gw0.sqlite'}"
    one, two = SQLiteBackend("r1"), SQLiteBackend("r2")
    assert one._claim(url, None) == url
    assert two._claim(url, fallback) == fallback
    with pytest.raises(ScenarioError, match="in use by another pytest run"):
        SQLiteBackend("r3")._claim(url, None)
    one.release_database(url, keep=False)
    two.release_database(fallback, keep=False)
    assert list(tmp_path.iterdir()) == [], "claims and files are gone"
    assert SQLiteBackend("r3")._claim(url, None) == url, "a released name is free again"


def test_sqlite_sweep_removes_scratch_files_of_dead_processes_only(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(dead.stdout)
    live_pid = os.getpid()
    names = [
        f"k.building-{dead_pid}.sqlite",
        f"k.building-{dead_pid}.sqlite-journal",
        f"app_gw0.sqlite.clone-{dead_pid}",
        f"k2.building-{live_pid}.sqlite",
        "k.sqlite",
        "k.json",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    SQLiteBackend("r1").start_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[3:])
