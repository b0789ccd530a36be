# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""Faults on real servers: unreachable, refused, stale or half-written snapshots, crashed runs.
(Per-test isolation on every backend, commits and PostgreSQL's aborted transactions, is
test_isolation's ``test_commits_failed_transactions_and_the_root_do_not_leak_on_every_backend``.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from servers import (  # noqa: F401
    Server,
    db_server,
    drop_cache,
    require_server,
    run,
    selected_servers,
    server,
)
from sqlalchemy.engine import make_url
from summary import built_lines, summary_sources

from pytest_demoseed.storage.backends.server import Marker

REFUSALS = [
    pytest.param(
        "postgresql",
        "postgresql+psycopg://root@127.0.0.1:1/x",
        "cannot connect to",
        False,
        id="pg-unreachable",
    ),
    pytest.param(
        "mariadb", "mysql+pymysql://root@127.0.0.1:1/x", "cannot connect to", False, id="mariadb-unreachable"
    ),
    pytest.param(
        "postgresql",
        "postgresql+psycopg://nosuchuser@{host}/x",
        'role "nosuchuser" does not exist',
        True,
        id="pg-no-such-user",
    ),
    pytest.param(
        "mariadb",
        "mysql+pymysql://root:wrongpassword@{host}/x",
        "Access denied for user 'root'",
        True,
        id="mariadb-wrong-password",
    ),
]


def _one_usage_error_line(result: pytest.RunResult) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: --demo-db-url:"), errors
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str(), "no test ran"
    return errors[0]


@pytest.mark.parametrize(
    ("kind", "url", "expected", "needs_server"),
    [case for case in REFUSALS if case.values[0] in selected_servers()],
)
def test_unreachable_or_refused_server_is_one_line_usage_error(
    pytester: pytest.Pytester, kind: str, url: str, expected: str, needs_server: bool
) -> None:
    if needs_server:
        url = url.format(host=make_url(require_server(kind)).render_as_string().split("@")[1])
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--demo-db-url", url, "-n", "2")
    line = _one_usage_error_line(result)
    assert expected in line, line
    assert "wrongpassword" not in line


def test_user_without_create_privilege_is_one_line_usage_error(
    pytester: pytest.Pytester, db_server: Server
) -> None:
    server = db_server
    user = f"demoseed_nocreate_{uuid.uuid4().hex[:6]}"
    with server.user_without_create(user) as url:
        pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
        result = pytester.runpytest_subprocess("-p", "no:randomly", "--demo-db-url", url)
        line = _one_usage_error_line(result)
        assert "may not create databases" in line and user in line, line
    assert not [n for n in server.databases() if n.startswith("demoseed_p_")], "no probe left"


def _snapshot(server: Server, cache: Path) -> tuple[str, Marker]:
    """The one snapshot ``--demo-reuse`` keeps for ``cache`` on the server."""
    scope = type(server.backend)(reuse=True, url=server.url).scope(cache)  # type: ignore[misc]
    found = [(n, m) for n, m in server.databases().items() if n.startswith(f"demoseed_s_{scope}_")]
    assert len(found) == 1 and found[0][1] is not None, found
    return found[0][0], found[0][1]


#: Each way a kept snapshot can be damaged: gone, half written, made for another key, its sidecar
#: (the SQLite cache's record of the snapshot's key) lost.
DAMAGES = ("vanished", "half_written", "stale_key", "sidecar_lost")


def test_damaged_snapshot_is_detected_and_rebuilt(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    """``--demo-reuse`` keeps a snapshot; each damage in turn is done to the one kept then, and
    the next run finds it untrusted and builds afresh (one inner run per damage, not two: the
    rebuilt snapshot is what the next damage hits)."""
    # --demo-reuse's own cache (pytest's cache dir): no portable files, so a server snapshot that is
    # gone is built again here (loading portable files instead is test_snapshot_cache's)
    cache = pytester.path / ".pytest_cache" / "d" / "demoseed"
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    args = ("--demo-scenario", "small", "--demo-reuse")
    try:
        assert len(built_lines(run(pytester, server, *args).stdout.str())) == 1
        for damage in DAMAGES:
            if server.is_server:
                name, marker = _snapshot(server, cache)
            if damage == "sidecar_lost":
                sidecars = list(cache.glob("*.json"))
                assert sidecars, damage
                for sidecar in sidecars:
                    sidecar.unlink()
            elif not server.is_server:
                sidecar = next(cache.glob("*.json"))
                if damage == "vanished":
                    next(cache.glob("*.sqlite")).unlink()
                elif damage == "half_written":
                    sidecar.write_text(sidecar.read_text()[:40])
                else:
                    sidecar.write_text(sidecar.read_text().replace('"key": "', '"key": "stale'))
            elif damage == "vanished":
                server.drop(name)
            elif damage == "half_written":
                server.set_marker(name, Marker.new("scratch", "deadbeef", marker.key))
            else:
                server.set_marker(name, Marker.new("snapshot", marker.run, "other_key", persistent=True))
            again = run(pytester, server, *args)
            again.assert_outcomes(passed=1)
            sources = [source for _, source in summary_sources(again.stdout.str())]
            assert sources == ["built"], (damage, again.stdout.str())
    finally:
        drop_cache(server, cache)


def test_leftovers_of_crashed_runs_are_cleaned_and_live_runs_untouched(
    pytester: pytest.Pytester, db_server: Server
) -> None:
    server = db_server
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
from pytest_demoseed.scenario.declare import Phase

def slow(ctx):
    # the first process to get here (baseline's rows written, not committed) blocks until killed
    marker = os.environ.get("SLOW_MARKER")
    if marker:
        try:
            os.close(os.open(marker + ".claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return iter(())
        with open(marker + ".tmp", "w") as out:
            out.write(str(os.getpid()))
        os.replace(marker + ".tmp", marker)
        time.sleep(120)
    return iter(())

base = BASELINE.derive("slowone")
register(type(base)(name="slowone", phases=base.phases + (Phase("slow", slow),),
                    metadata=base.metadata, overrides=base.overrides))
"""


def _start_blocked_build(
    pytester: pytest.Pytester, server: Server, marker_file: Path, *args: str
) -> tuple[subprocess.Popen[bytes], int, Path]:
    """An inner run whose build blocks in its last phase; returns it and the building pid."""
    pytester.makeconftest(SLOW_CONFTEST)
    output = pytester.path / "inner-output.txt"
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "--demo-db-url", server.url, *args]
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            command,
            cwd=pytester.path,
            env={**os.environ, "SLOW_MARKER": str(marker_file)},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches
        )
    deadline = time.monotonic() + 90
    while not marker_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker_file.exists(), f"the build never started: {output.read_text()}"
    return proc, int(marker_file.read_text()), output


def _of_pid(server: Server, pid: int) -> dict[str, Marker]:
    return {n: m for n, m in server.databases().items() if m is not None and m.pid == pid}


#: How a build is interrupted, in the order one test does them: Ctrl-C (SIGINT to the run's
#: process group) without and with xdist, then a kill -9 of the building process.
INTERRUPTIONS = ("ctrl-c", "ctrl-c-xdist", "killed")


@pytest.mark.usefixtures("ctrl_c_reaches_children")
def test_interrupted_build_leaves_nothing_trusted(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    """Ctrl-C mid-build (SIGINT to the run's process group, with or without xdist) drops the
    half-built database at once; a kill -9 leaves only an unpublished scratch database (never
    a snapshot, no sidecar), swept by the next run, which builds afresh.

    One build after another on the same cache: each interrupted build is followed by a build
    that starts afresh (it blocks in the build again, so nothing it found was trusted), and the
    run after the kill sweeps and builds."""
    cache = tmp_path / "cache"
    args = ("--demo-scenario", "slowone", "--demo-reuse", "--demo-cache-dir", str(cache))
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    procs: list[subprocess.Popen[bytes]] = []
    pids: list[int] = []
    try:
        for mode in INTERRUPTIONS:
            xdist = ("-n", "2") if mode == "ctrl-c-xdist" else ()
            marker = tmp_path / f"building-{mode}"
            proc, pid, output = _start_blocked_build(pytester, server, marker, *args, *xdist)
            procs.append(proc)
            pids.append(pid)
            if mode == "killed":
                os.kill(pid, signal.SIGKILL)
            else:
                os.killpg(proc.pid, signal.SIGINT)
            proc.wait(60)
            assert not list(cache.glob("*.json")), f"{mode}: no sidecar: the snapshot is not trusted"
            left = [p.name for p in cache.glob("*.sqlite")]
            if mode != "killed":
                assert proc.returncode == pytest.ExitCode.INTERRUPTED, (mode, output.read_text())
                assert left == [], f"{mode}: Ctrl-C removed the scratch file"
                if server.is_server:
                    assert _of_pid(server, pid) == {}, f"{mode}: Ctrl-C dropped the half-built database"
            elif server.is_server:
                roles = {m.role for m in _of_pid(server, pid).values()}
                assert roles == {"scratch"}, "the killed build left a scratch database, never a snapshot"
            else:
                assert [name.split(".")[1] for name in left] == [f"building-{pid}"], left
        result = run(pytester, server, *args)
        result.assert_outcomes(passed=1)
        assert len(built_lines(result.stdout.str())) == 1, result.stdout.str()
        assert not [p for p in cache.glob("*.building-*")], "the next run swept the scratch file"
        if server.is_server:
            for pid in pids:
                assert _of_pid(server, pid) == {}, "the next run swept the killed run's scratch database"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)
        drop_cache(server, cache)


def test_worker_killed_mid_build_another_worker_builds_and_nothing_is_left(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    """``-n 2``: the worker building the snapshot is killed; the other, waiting on the lock,
    finds no trusted snapshot, builds it once, and the run ends with nothing left behind."""
    before = server.names()
    pytester.makepyfile(
        test_x="import pytest\n\n@pytest.mark.parametrize('i', range(4))\n"
        "def test_x(demo_dataset, i):\n    assert demo_dataset.counts['electors'] == 2000\n"
    )
    basetemp = tmp_path / "basetemp"
    proc, pid, output = _start_blocked_build(
        pytester,
        server,
        tmp_path / "building",
        "-n",
        "2",
        "--demo-scenario",
        "slowone",
        f"--basetemp={basetemp}",
    )
    try:
        os.kill(pid, signal.SIGKILL)
        proc.wait(120)
        text = output.read_text()
        outcomes = pytest.RunResult.parse_summary_nouns(text.splitlines())
        assert outcomes == {"failed": 1, "passed": 3}, text  # the killed worker's test, the rest
        assert "crashed while running" in text, text
        assert len(built_lines(text)) == 1, text
        assert not list(basetemp.rglob("*.building-*")) and not list(basetemp.rglob("*.json"))
        if server.is_server:
            assert server.left_behind(before) == [], text
    finally:
        proc.kill()
        proc.wait(10)
