# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""Schemas from Alembic migrations, with the ledger example's real Alembic environment (copied into
a temporary directory): migrated once per run, cloned per worker, reused, keyed by the migrations;
``seed(migrate=...)`` and ``demoseed seed --migrate``; every bad input one line.

Few, dense runs: the suite's time budget is small.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

# Imported once here: pytester's in-process inner runs drop what they import (see conftest.py).
import alembic.command  # noqa: F401
import alembic.runtime.migration  # noqa: F401
import alembic.script  # noqa: F401
import pytest
import sqlalchemy as sa
from conftest import assert_usage_error
from servers import Server, run, server  # noqa: F401
from summary import read_summary

from pytest_demoseed import seed
from pytest_demoseed.cli import main
from pytest_demoseed.errors import SchemaMismatch
from pytest_demoseed.storage.engines import make_engine
from pytest_demoseed.storage.migrations import load_migrations

LEDGER = Path(__file__).resolve().parent.parent / "examples" / "ledger"
#: What the example's data migration inserts, counted apart from the scenario's rows.
MIGRATED_LINE = "migrated to 0004: 4 rows from migrations (currencies 4)"
#: Appended to the copy's env.py: one line per time Alembic runs it, from whichever process.
ENV_LOG = '\nimport os\n\nopen(os.environ["MIGRATION_LOG"], "a").write(f"{os.getpid()}\\n")\n'
BROKEN = """
from alembic import op

revision = "0005"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("INSERT INTO no_such_table VALUES (1)")
"""


def ledger_copy(dest: Path, log: Path | None = None) -> Path:
    shutil.copytree(LEDGER, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    if log is not None:
        env = dest / "migrations" / "env.py"
        env.write_text(env.read_text() + ENV_LOG)
    return dest


def migration_runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def sibling_url(server: Server, suffix: str) -> str:
    if server.is_server:
        return f"{server.url}_{suffix}"
    return f"sqlite:///{server.sqlite_dir / f'{server.name}_{suffix}.sqlite'}"


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_migrated_once_cloned_per_worker_and_seeded_alike(
    pytester: pytest.Pytester, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On each backend: the example's suite runs the migrations once, into the snapshot, which
    the tests' database is cloned from; the data migration's rows are counted apart;
    ``seed(migrate=...)`` writes data with the same fingerprint; and a seed whose migrated schema
    does not fit leaves nothing on PostgreSQL and SQLite (one transaction), the migrations on
    MariaDB (no transactional DDL).

    PostgreSQL runs under ``-n 2``: the process that owns the run migrates before the workers
    start, both workers only clone. The others run in-process (cheaper; the flow is the same);
    SQLite also shows reuse: a second ``--demo-reuse`` run runs no migration."""
    log = tmp_path / "migrations.log"
    monkeypatch.setenv("MIGRATION_LOG", str(log))
    project = ledger_copy(pytester.path, log)
    before = server.names()
    reuse = () if server.is_server else ("--demo-reuse", f"--demo-cache-dir={tmp_path / 'cache'}")
    xdist = server.kind == "postgresql"
    if xdist:
        result = run(pytester, server, "-n", "2")
    else:
        result = pytester.runpytest("-p", "no:randomly", "--demo-db-url", server.url, *reuse)
    result.assert_outcomes(passed=5)
    out = result.stdout.str()
    assert migration_runs(log) == 1, out
    assert MIGRATED_LINE in out and "schema=alembic:head (0004)" in out, out
    summary = read_summary(result)
    if xdist:
        assert "controller: built in" in out and "while the workers started" in out, out
        assert sorted(summary.sources()) == [("gw0", "cloned"), ("gw1", "cloned")], out
    else:
        assert summary.sources() == [("main", "built")], out
    (fingerprint,) = summary.fingerprints().values()
    assert server.left_behind(before) == [], "the run's snapshot and clones are dropped"

    if not server.is_server:  # a second run reuses the migrated snapshot: no migration runs
        again = pytester.runpytest("-p", "no:randomly", "--demo-db-url", server.url, *reuse)
        again.assert_outcomes(passed=5)
        assert migration_runs(log) == 1 and read_summary(again).sources() == [("main", "cloned")]
        assert read_summary(again).fingerprints() == summary.fingerprints()

    # the library call: migrate, then seed, into a database of its own: the same data
    scenario = _ledger_scenario(project)
    report = seed(sibling_url(server, "seed"), scenario, migrate=project, create_database=True)
    assert report.fingerprint == fingerprint
    assert dict(report.migrated) == {"from": [], "to": ["0004"], "counts": {"currencies": 4}}
    assert migration_runs(log) == 2

    # migrated to 0001, the schema lacks the scenario's tables: refused after migrating
    url = sibling_url(server, "half")
    if server.is_server:
        server.create(url.rsplit("/", 1)[1], None)
    else:
        sqlite3.connect(url.removeprefix("sqlite:///")).close()
    with pytest.raises(SchemaMismatch, match="migrated to 0001 has no table 'accounts'"):
        seed(url, scenario, migrate=project / "alembic.ini", migrate_target="0001")
    left = tables(url)
    assert left == ({"alembic_version", "currencies"} if server.kind == "mariadb" else set()), left


def _ledger_scenario(project: Path) -> object:
    """The copy's ``ledger`` scenario object (imported from the copy, not registered)."""
    import importlib
    import sys

    sys.path.insert(0, str(project))
    try:
        return importlib.import_module("ledger_app.scenarios").LEDGER
    finally:
        sys.path.remove(str(project))


def test_bad_migrations_are_one_line_and_exit_4(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bad input ends the run before any test: one ``ERROR:`` line naming where it came from."""
    project = ledger_copy(pytester.path)
    versions = project / "migrations" / "versions"
    cases = [
        (["--demo-alembic=nowhere"], ["--demo-alembic:", "no alembic.ini at", "nowhere"]),
        (["--demo-alembic-target=nope"], ["--demo-alembic-target:", "unknown target revision 'nope'"]),
        (["--demo-schema=sometimes"], ["--demo-schema must be create_all, alembic or none", "'sometimes'"]),
        (["-o", "demo_alembic=", "--demo-schema=alembic"], ["--demo-schema=alembic needs the migrations"]),
        (
            ["-o", "demo_alembic=", "--demo-alembic-target=0001"],
            ["--demo-alembic-target needs the migrations"],
        ),
        (
            ["--demo-alembic-target=0001"],
            ["ini demo_alembic:", "migrated to 0001 has no table 'accounts'", "scenario 'ledger'"],
        ),
    ]
    # none: no schema is made, only checked (a fresh SQLite file has none)
    cases.append((["--demo-schema=none"], ["--demo-schema:", "the database has no table"]))
    for args, fragments in cases:
        assert_usage_error(pytester.runpytest("-p", "no:randomly", *args), *fragments)

    monkeypatch.setenv("DEMOSEED_SCHEMA", "bogus")
    assert_usage_error(pytester.runpytest("-p", "no:randomly"), "DEMOSEED_SCHEMA must be")
    monkeypatch.delenv("DEMOSEED_SCHEMA")

    (versions / "0005_broken.py").write_text(BROKEN.format(down="0004"))
    line = assert_usage_error(
        pytester.runpytest("-p", "no:randomly"), "migration 0005 failed:", "no_such_table"
    )
    assert "\n" not in line
    (versions / "0005_broken.py").write_text(BROKEN.format(down="0003"))
    assert_usage_error(
        pytester.runpytest("-p", "no:randomly"), "2 heads (0004, 0005)", "--demo-alembic-target"
    )
    (versions / "0005_broken.py").unlink()

    with monkeypatch.context() as patch:  # Alembic not installed
        for name in [
            m for m in list(__import__("sys").modules) if m == "alembic" or m.startswith("alembic.")
        ]:
            patch.delitem(__import__("sys").modules, name)
        patch.setitem(__import__("sys").modules, "alembic", None)
        result = pytester.runpytest("-p", "no:randomly")
    assert_usage_error(result, "Alembic is not installed: pip install 'pytest-demoseed[alembic]'")


def test_command_migrate_and_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``demoseed seed --migrate``: migrates and seeds; each bad input one line and exit code 2,
    nothing written. The key follows the migrations' content, not their mtimes."""
    project = ledger_copy(tmp_path / "ledger")
    monkeypatch.chdir(project)
    db = tmp_path / "cmd.sqlite"
    base = [
        "--scenarios",
        "ledger_app.scenarios",
        "seed",
        "--db-url",
        f"sqlite:///{db}",
        "--scenario",
        "ledger",
    ]
    base += ["--progress", "none"]

    def bad(*args: str) -> str:
        capsys.readouterr()
        assert main([*base, *args]) == 2, capsys.readouterr()
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("demoseed: error: "), err
        assert not db.exists(), "nothing written"
        return err

    assert "--migrate nowhere: no alembic.ini" in bad("--migrate", "nowhere")
    assert "unknown target revision 'nope'" in bad("--migrate", "--migrate-target", "nope")
    assert "exclude each other" in bad("--migrate", "--create-schema")
    assert "migrated to 0001 has no table 'accounts'" in bad("--migrate", "--migrate-target", "0001")
    versions = project / "migrations" / "versions"
    (versions / "0005_broken.py").write_text(BROKEN.format(down="0004"))
    assert "migration 0005 failed: no such table: no_such_table" in bad("--migrate")
    (versions / "0005_broken.py").write_text(BROKEN.format(down="0003"))
    assert "2 heads (0004, 0005)" in bad("--migrate")
    (versions / "0005_broken.py").unlink()

    capsys.readouterr()
    assert main([*base, "--migrate"]) == 0
    out = capsys.readouterr().out
    assert "migrated to 0004: 4 rows from migrations (currencies 4) (was at base)" in out, out
    assert main(["seed", "--help"]) == 0
    assert "MariaDB/MySQL, which have no transactional DDL" in " ".join(capsys.readouterr().out.split())

    # the snapshot key's part: the target and the files' content, never mtimes or caches
    first = load_migrations(project)
    assert first.revisions == ("0004",) and first.key.startswith("alembic:0004:")
    migration = versions / "0004_account_balances.py"
    os.utime(migration, (1, 1))
    (versions / "__pycache__").mkdir(exist_ok=True)
    (versions / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert load_migrations(project).key == first.key
    migration.write_text(migration.read_text() + "# edited\n")
    assert load_migrations(project).key != first.key
    assert load_migrations(project, "0003").key.startswith("alembic:0003:")
