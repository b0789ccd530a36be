"""The demoseed command through a real subprocess, against SQLite files (and PostgreSQL if running)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pytest_demoseed import get_scenario, seed
from pytest_demoseed.cli import main
from pytest_demoseed.engines import make_engine

BUILTINS = ("baseline", "small", "empty", "landslide", "close-race", "low-turnout", "large")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DEMOSEED_DATABASE_URL"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest_demoseed", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def events_and_report(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert "report" in lines[-1], lines[-1]
    return lines[:-1], lines[-1]["report"]


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("demoseed: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.stdout + result.stderr


# --- happy paths ----------------------------------------------------------------------------------


def test_list_shows_scenarios_descriptions_and_phase_defaults() -> None:
    result = run("list")
    assert result.returncode == 0, result.stderr
    out = "\n" + result.stdout
    for name in BUILTINS:
        assert f"\n{name}: " in out
    small = out.split("\nsmall: ")[1].split("\n\n")[0]
    assert "  attendance: enabled=true rate=0.5 batch_size=50" in small
    assert "  guarantees: enabled=true per_member=5 total_limit=none" in small
    detail = run("list", "small").stdout
    assert "attendance.rate=0.5 (0..1)  share of electors who vote" in detail


def test_seed_with_json_progress_then_fingerprint_matches(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "a.sqlite")
    result = run("seed", "--db-url", url, "--scenario", "small", "--create-schema", "--progress", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    events, report = events_and_report(result.stdout)
    for event in events:
        assert set(event) == {"status", "current_phase", "progress", "errors", "elapsed"}
    assert events[0]["status"] == "running" and events[-1]["status"] == "done"
    assert events[-1]["progress"]["electors"]["rows"] == 50
    assert report["counts"]["electors"] == 50 and report["scenario"] == "small"
    printed = run("fingerprint", "--db-url", url, "--scenario", "small")
    assert printed.returncode == 0 and printed.stdout.strip() == report["fingerprint"]


def test_two_databases_seeded_alike_have_one_fingerprint(tmp_path: Path) -> None:
    def seed_and_print(name: str) -> str:
        url = sqlite_url(tmp_path / name)
        done = run("seed", "--db-url", url, "--scenario", "small", "--create-schema", "--progress", "none")
        assert done.returncode == 0, done.stderr
        assert "electors 50" in done.stdout and "rows/s" in done.stdout
        printed = run("fingerprint", "--db-url", url, "--scenario", "small").stdout.strip()
        assert f"fingerprint {printed}" in done.stdout
        return printed

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(seed_and_print, ["a.sqlite", "b.sqlite"])
    assert a == b


def test_clear_deletes_the_scenarios_rows_and_seed_clear_rebuilds(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    first = seed(sqlite_url(path), "small", create_schema=True)
    again = run("seed", "--db-url", sqlite_url(path), "--scenario", "small", "--clear", "--progress", "none")
    assert again.returncode == 0, again.stderr
    assert f"fingerprint {first.fingerprint}" in again.stdout  # not doubled: cleared, then rebuilt
    cleared = run("clear", "--db-url", sqlite_url(path), "--scenario", "small")
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared 102 rows" in cleared.stdout
    engine = make_engine(sqlite_url(path))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM elections")).scalar_one() == 0
    engine.dispose()


def test_url_from_the_environment_and_json_lines_when_not_a_terminal(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "env.sqlite")
    result = run("seed", "--scenario", "empty", "--create-schema", env={"DEMOSEED_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    events, report = events_and_report(result.stdout)  # no --progress: auto, and stdout is a pipe
    assert events[-1]["status"] == "done" and report["counts"]["elections"] == 1


# --- bad input: one line, non-zero, database unchanged ---------------------------------------------


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    code: int
    fragments: tuple[str, ...]
    db: str = "seeded"  # seeded | empty | mismatched | absent


BAD = {
    "unknown scenario": Bad(("seed", "--scenario", "nope"), 2, ("unknown scenario 'nope'", "small")),
    "set bad value": Bad(("seed", "--scenario", "small", "--set", "attendance.rate=2"), 2,
                         ("attendance.rate", "between 0 and 1")),
    "negative seed": Bad(("seed", "--scenario", "small", "--seed", "-1"), 2, ("--seed",)),
    "no url": Bad(("seed", "--scenario", "small"), 2, ("--db-url", "DEMOSEED_DATABASE_URL")),
    "missing tables": Bad(("seed", "--scenario", "small"), 1, ("no table", "--create-schema"), "empty"),
    "schema mismatch": Bad(("seed", "--scenario", "small"), 1, ("does not match",), "mismatched"),
    "no such file": Bad(("seed", "--scenario", "small"), 1, ("no SQLite database file",), "absent"),
    "unreachable server": Bad(
        ("seed", "--scenario", "small", "--db-url", "postgresql+psycopg://root:hunter2@127.0.0.1:1/x"),
        1, ("cannot connect", "root:***@127.0.0.1:1"),
    ),
}

#: More bad input, run in-process through the same ``main()`` (a subprocess each would be slow).
MORE_BAD = {
    "clear unknown scenario": Bad(("clear", "--scenario", "nope"), 2, ("unknown scenario",)),
    "set unknown key": Bad(("seed", "--scenario", "small", "--set", "attendance.speed=1"), 2,
                           ("unknown setting attendance.speed", "attendance.rate")),
    "set without =": Bad(("seed", "--scenario", "small", "--set", "attendance"), 2, ("bad setting",)),
    "unparsable url": Bad(("seed", "--scenario", "small", "--db-url", "not a url"), 2, ("database URL",)),
    "text seed": Bad(("seed", "--scenario", "small", "--seed", "abc"), 2, ("--seed", "abc")),
    "bad progress": Bad(("seed", "--scenario", "small", "--progress", "loud"), 2, ("--progress",)),
    "unknown dialect": Bad(("seed", "--scenario", "small", "--db-url", "oracle2://x/y"), 2, ("dialect",)),
    "unknown command": Bad(("frobnicate",), 2, ("frobnicate",)),
    "set unknown phase": Bad(("seed", "--scenario", "small", "--set", "votes.count=1"), 2,
                             ("unknown phase 'votes'",)),
    "settings that conflict": Bad(("seed", "--scenario", "small", "--set", "guarantees.party_weights=1,2,3"),
                                  2, ("party_weights",)),
    "fingerprint unknown scenario": Bad(("fingerprint", "--scenario", "nope"), 2, ("unknown scenario",)),
    "clear missing tables": Bad(("clear", "--scenario", "small"), 1, ("no table",), "empty"),
    "fingerprint no such file": Bad(("fingerprint", "--scenario", "small"), 1, ("no SQLite",), "absent"),
}


Outcome = tuple[subprocess.CompletedProcess[str], Path, "str | None"]


def make_database(root: Path, name: str, case: Bad) -> Path:
    """The database a case runs against: a seeded copy, one without the tables, one that differs."""
    path = root / f"{name.replace(' ', '_')}.sqlite"
    if case.db == "seeded":
        shutil.copy(root / "template.sqlite", path)
    elif case.db in ("empty", "mismatched"):
        engine = make_engine(sqlite_url(path))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
            if case.db == "mismatched":  # every table, but with an id column only
                for table in get_scenario("small").metadata.sorted_tables:
                    conn.execute(sa.text(f"CREATE TABLE {table.name} (id INTEGER PRIMARY KEY)"))
        engine.dispose()
    return path


def with_url(name: str, case: Bad, path: Path) -> tuple[str, ...]:
    if "--db-url" in case.args or name == "no url":
        return case.args
    return (*case.args, "--db-url", sqlite_url(path))


@pytest.fixture(scope="module")
def bad_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    seed(sqlite_url(root / "template.sqlite"), "small", create_schema=True)
    return root


@pytest.fixture(scope="module")
def bad_runs(bad_root: Path) -> dict[str, Outcome]:
    """Every subprocess case run at once (they are independent), each on its own database file,
    whose digest is taken before the run."""

    def execute(item: tuple[str, Bad]) -> tuple[str, Outcome]:
        name, case = item
        path = make_database(bad_root, name, case)
        before = digest(path)
        return name, (run(*with_url(name, case, path)), path, before)

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(execute, BAD.items()))


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_one_line_and_changes_nothing(name: str, bad_runs: dict[str, Outcome]) -> None:
    result, path, before = bad_runs[name]
    case = BAD[name]
    assert_one_error_line(result, case.code, *case.fragments)
    assert "hunter2" not in result.stdout + result.stderr
    assert digest(path) == before  # byte for byte; an absent file stays absent


@pytest.mark.parametrize("name", list(MORE_BAD))
def test_more_bad_input_in_process(
    name: str, bad_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMOSEED_DATABASE_URL", raising=False)
    case = MORE_BAD[name]
    path = make_database(bad_root, name, case)
    before = digest(path)
    code = main(list(with_url(name, case, path)))
    captured = capsys.readouterr()
    assert_one_error_line(subprocess.CompletedProcess([], code, captured.out, captured.err), case.code,
                          *case.fragments)
    assert digest(path) == before


# --- PostgreSQL ----------------------------------------------------------------------------------

PG_ADMIN = "host=127.0.0.1 port=5432 user=root dbname=postgres connect_timeout=3"


@pytest.fixture()
def pg_database() -> Iterator[str]:
    """A scratch database on the local server, dropped afterwards; skipped (failed on CI) if down."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at 127.0.0.1:5432 as user root: {str(exc).strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"demoseed_clitest_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            # trust auth ignores the password: it is here to show it never reaches the output
            yield f"postgresql+psycopg://root:s3cret@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_seed_fingerprint_clear(pg_database: str, tmp_path: Path) -> None:
    missing = run("seed", "--db-url", pg_database, "--scenario", "small", "--progress", "none")
    assert_one_error_line(missing, 1, "no table", "--create-schema")

    engine = make_engine(pg_database)
    assert sa.inspect(engine).get_table_names() == []  # the failed run created nothing
    engine.dispose()

    args = ("--db-url", pg_database, "--scenario", "small")
    done = run("seed", *args, "--create-schema", "--progress", "json")
    assert done.returncode == 0, done.stderr
    events, report = events_and_report(done.stdout)
    assert events[-1]["status"] == "done" and report["counts"]["electors"] == 50
    assert "s3cret" not in done.stdout + done.stderr and "root:***@" in report["database"]

    printed = run("fingerprint", "--db-url", pg_database, "--scenario", "small")
    assert printed.returncode == 0, printed.stderr
    sqlite_twin = seed(sqlite_url(tmp_path / "twin.sqlite"), "small", create_schema=True)
    assert printed.stdout.strip() == report["fingerprint"] == sqlite_twin.fingerprint  # same on both

    bad = run("seed", "--db-url", pg_database, "--scenario", "small", "--set", "attendance.rate=9")
    assert_one_error_line(bad, 2, "attendance.rate")
    cleared = run("clear", "--db-url", pg_database, "--scenario", "small")
    assert cleared.returncode == 0 and "cleared 102 rows" in cleared.stdout
