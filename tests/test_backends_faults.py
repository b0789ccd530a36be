# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""Faults on real servers: unreachable, refused, stale or half-written snapshots, crashed runs,
and per-test isolation (commits, PostgreSQL's aborted transactions)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from servers import Server, built_lines, drop_cache, run, server  # noqa: F401

from pytest_demoseed.backend_server import Marker

ISOLATION = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

def count(conn):
    return conn.scalar(sa.select(sa.func.count(Party.id)))

def test_1_commit_inside_test(demo_session, demo_dataset):
    election_id = demo_session.scalar(sa.select(Party.election_id).limit(1))
    demo_session.add(Party(name="X", election_id=election_id, number=98, color="#000000"))
    demo_session.commit()
    assert count(demo_session) == demo_dataset.counts["parties"] + 1

def test_2_failed_statement_left_behind(demo_connection):
    with pytest.raises(sa.exc.DBAPIError):
        demo_connection.execute(sa.text("SELECT * FROM no_such_table"))

def test_3_failed_statement_in_session(demo_session):
    with pytest.raises(sa.exc.DBAPIError):
        demo_session.execute(sa.text("SELECT 1/0 FROM no_such_table"))

def test_4_next_test_sees_the_scenario(demo_session, demo_dataset):
    assert count(demo_session) == demo_dataset.counts["parties"]
"""


def test_commits_and_failed_transactions_do_not_leak(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(test_iso=ISOLATION)
    run(pytester, server, "--demo-scenario", "small").assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("kind", "url", "expected"),
    [
        ("postgresql", "postgresql+psycopg://root@127.0.0.1:1/x", "cannot connect to"),
        ("mariadb", "mysql+pymysql://root@127.0.0.1:1/x", "cannot connect to"),
        ("postgresql", "postgresql+psycopg://nosuchuser@127.0.0.1:5432/x", "nosuchuser"),
        ("mariadb", "mysql+pymysql://nosuchuser:bad@127.0.0.1:3306/x", "Access denied"),
    ],
)
def test_unreachable_or_refused_server_is_one_line_usage_error(
    pytester: pytest.Pytester, server: Server, kind: str, url: str, expected: str
) -> None:
    if server.kind != kind:
        pytest.skip(f"{kind} case")
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--demo-db-url", url)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: --demo-db-url:"), errors
    assert expected in errors[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_user_without_create_privilege_is_one_line_usage_error(
    pytester: pytest.Pytester, server: Server
) -> None:
    if not server.is_server:
        pytest.skip("server-only")
    assert server.backend is not None
    with server.backend.admin() as conn:
        if server.kind == "postgresql":
            conn.execute("DROP ROLE IF EXISTS demoseed_nocreate")
            conn.execute("CREATE ROLE demoseed_nocreate LOGIN NOCREATEDB")
        else:
            with conn.cursor() as cursor:
                cursor.execute("DROP USER IF EXISTS 'demoseed_nocreate'@'%'")
                cursor.execute("CREATE USER 'demoseed_nocreate'@'%'")
    try:
        url = server.url.replace("root@", "demoseed_nocreate@")
        pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
        result = pytester.runpytest_subprocess("-p", "no:randomly", "--demo-db-url", url)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
        errors = [line for line in result.stderr.lines if line.strip()]
        assert len(errors) == 1 and "may not create databases" in errors[0], errors
    finally:
        with server.backend.admin() as conn:
            if server.kind == "postgresql":
                conn.execute("DROP ROLE IF EXISTS demoseed_nocreate")
            else:
                with conn.cursor() as cursor:
                    cursor.execute("DROP USER IF EXISTS 'demoseed_nocreate'@'%'")


def _snapshot(server: Server, cache: Path) -> tuple[str, Marker]:
    """The one snapshot ``--demo-reuse`` keeps for ``cache`` on the server."""
    scope = type(server.backend)(reuse=True, url=server.url).scope(cache)  # type: ignore[misc]
    found = [(n, m) for n, m in server.databases().items() if n.startswith(f"demoseed_s_{scope}_")]
    assert len(found) == 1 and found[0][1] is not None, found
    return found[0][0], found[0][1]


@pytest.mark.parametrize("damage", ["vanished", "half_written", "stale_key", "sidecar_lost"])
def test_damaged_snapshot_is_detected_and_rebuilt(
    pytester: pytest.Pytester, server: Server, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache"
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    args = ("--demo-scenario", "small", "--demo-reuse", "--demo-cache-dir", str(cache))
    try:
        assert len(built_lines(run(pytester, server, *args).stdout.str())) == 1
        if server.is_server:
            name, marker = _snapshot(server, cache)
        if damage == "sidecar_lost":
            for sidecar in cache.glob("*.json"):
                sidecar.unlink()
        elif not server.is_server:
            if damage == "vanished":
                next(cache.glob("*.sqlite")).unlink()
            else:
                sidecar = next(cache.glob("*.json"))
                sidecar.write_text(sidecar.read_text()[:40])
        elif damage == "vanished":
            server.drop(name)
        elif damage == "half_written":
            server.set_marker(name, Marker.new("scratch", "deadbeef", marker.key))
        else:
            server.set_marker(name, Marker.new("snapshot", marker.run, "other_key", persistent=True))
        again = run(pytester, server, *args)
        again.assert_outcomes(passed=1)
        assert len(built_lines(again.stdout.str())) == 1, again.stdout.str()
    finally:
        drop_cache(server, cache)


def test_leftovers_of_crashed_runs_are_cleaned_and_live_runs_untouched(
    pytester: pytest.Pytester, server: Server
) -> None:
    if not server.is_server:
        pytest.skip("server-only: SQLite leftovers live in pytest's rotating base temp dirs")
    assert server.backend is not None
    dead, alive = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    dead_scratch, live_scratch = f"demoseed_b_{dead}_{server.name}", f"demoseed_b_{alive}_{server.name}"
    server.create(dead_scratch, Marker.new("scratch", dead))
    server.create(f"{server.name}_gw0", Marker.new("worker", dead))
    server.create(live_scratch, Marker.new("scratch", alive))
    server.create(server.name, Marker.new("worker", alive))  # a live run holds the base name
    live = type(server.backend)(alive, url=server.url)
    lease = live._open()
    live._hold_lease(lease)
    try:
        pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
        result = run(pytester, server, "--demo-scenario", "small")
        result.assert_outcomes(passed=1)
        after = server.databases()
        assert dead_scratch not in after
        assert live_scratch in after and server.name in after, "a live run's databases are untouched"
        assert f"/{server.name}_" in built_lines(result.stdout.str())[0], "fell back to <name>_<run id>"
        run(pytester, server, "--demo-scenario", "small", "-n", "1").assert_outcomes(passed=1)
        assert f"{server.name}_gw0" not in server.databases(), "a dead run's worker db was replaced"
    finally:
        lease.close()


SLOW_CONFTEST = """
import os, time
from pytest_demoseed import register
from pytest_demoseed.election.scenarios import BASELINE
from pytest_demoseed.scenario import Phase

def slow(ctx):
    if os.environ.get("SLOW_MARKER"):
        open(os.environ["SLOW_MARKER"], "w").close()
        time.sleep(120)
    return iter(())

base = BASELINE.derive("slowone")
register(type(base)(name="slowone", phases=base.phases + (Phase("slow", slow),),
                    metadata=base.metadata, overrides=base.overrides))
"""


def test_killed_build_leaves_nothing_trusted(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    marker_file = tmp_path / "building"
    pytester.makeconftest(SLOW_CONFTEST)
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    args = [
        "-p",
        "no:randomly",
        "--demo-db-url",
        server.url,
        "--demo-scenario",
        "slowone",
        "--demo-reuse",
        "--demo-cache-dir",
        str(cache),
    ]
    env = {**os.environ, "SLOW_MARKER": str(marker_file)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker_file.exists(), "the build never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert not list(cache.glob("*.json")), "no sidecar: the snapshot is not trusted"
        if server.is_server:
            roles = {m.role for m in server.databases().values() if m and m.pid == proc.pid}
            assert roles == {"scratch"}, "the killed build left a scratch database, never a snapshot"
        result = run(pytester, server, *args[4:])
        result.assert_outcomes(passed=1)
        assert len(built_lines(result.stdout.str())) == 1
        if server.is_server:
            leftovers = [n for n, m in server.databases().items() if m and m.pid == proc.pid]
            assert leftovers == [], "the killed run's scratch database was swept"
    finally:
        proc.kill()
        drop_cache(server, cache)
