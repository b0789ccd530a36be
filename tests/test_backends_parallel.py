# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""Build once per run, clone per worker, on every backend: counts of builds, reuse, rebuild."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from servers import (  # noqa: F401
    Server,
    db_server,
    drop_cache,
    run,
    run_inprocess,
    server,
)
from summary import built_lines, dataset_fingerprints, read_summary

from pytest_demoseed.build.builder import build
from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.scenario.spec import resolve_spec
from pytest_demoseed.storage.backends import backend_for
from pytest_demoseed.storage.engines import make_engine

COUNTED_CONFTEST = """
import os
from pytest_demoseed import register
from pytest_demoseed.scenario.registry import get_scenario
from pytest_demoseed.scenario.declare import Phase

def counted(ctx):
    # one line per generation of a spec, from whichever process generates it
    with open(os.environ["GENERATED_LOG"], "a") as log:
        log.write(f"{ctx.seed} {os.getpid()}\\n")
    return iter(())

SMALL = get_scenario("small")
register(type(SMALL)(name="counted", phases=SMALL.phases + (Phase("counted", counted),),
                     metadata=SMALL.metadata, overrides=SMALL.overrides))
"""

TWO_SPECS = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

@pytest.mark.parametrize("i", range(4))
def test_default(demo_dataset, demo_session, i):
    assert demo_session.scalar(sa.select(sa.func.count(Party.id))) == demo_dataset.counts["parties"]

@pytest.mark.demo_scenario(seed=7)
@pytest.mark.parametrize("i", range(4))
def test_other_seed(demo_dataset, i):
    assert demo_dataset.seed == 7
"""


def reference(tmp_path: Path, scenario: str) -> Dataset:
    """The spec built on a fresh SQLite file: what every backend must hold."""
    engine = make_engine(f"sqlite:///{tmp_path / f'reference-{scenario}.sqlite'}")
    spec = resolve_spec(scenario, 42, {})
    spec.scenario.metadata.create_all(engine)
    try:
        return build(engine, spec)
    finally:
        engine.dispose()


READ_BACK = """
import json, os, pathlib
import pytest
from pytest_demoseed import database_fingerprint

OUT = pathlib.Path(os.environ["READ_BACK_DIR"])

def dump(demo_connection, demo_dataset, label):
    OUT.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    read = database_fingerprint(demo_connection.engine, demo_dataset.scenario)
    (OUT / f"{label}-{worker}.json").write_text(json.dumps({
        "database": demo_connection.engine.url.database, "worker": worker,
        "scenario": demo_dataset.scenario, "built": demo_dataset.fingerprint, "read": read,
    }))

@pytest.mark.parametrize("i", range(3))
def test_default(demo_connection, demo_dataset, i):
    dump(demo_connection, demo_dataset, f"default{i}")

@pytest.mark.demo_scenario("small")
@pytest.mark.parametrize("i", range(3))
def test_small(demo_connection, demo_dataset, i):
    dump(demo_connection, demo_dataset, f"small{i}")
"""


FRESH_KEYS = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Base

@pytest.mark.demo_scenario("small")
@pytest.mark.parametrize("i", range(2))
def test_insert_into_every_table(demo_session, demo_factories, demo_election, i):
    tables = Base.metadata.sorted_tables
    top = {t.name: demo_session.scalar(sa.select(sa.func.max(t.c.id))) or 0 for t in tables}
    f = demo_factories
    f.Election()
    f.Candidate(election=demo_election)
    f.Guarantee(election=demo_election)
    f.Attendance(election=demo_election)
    demo_session.commit()
    for table in tables:
        new = demo_session.scalars(sa.select(table.c.id).where(table.c.id > top[table.name])).all()
        assert new, f"{table.name}: no row got a key past the scenario's"
        assert min(new) == top[table.name] + 1, (table.name, top[table.name], sorted(new))
"""


#: xdist's load scheduling first hands each worker two consecutive tests: one fresh-keys test in
#: each pair, since a worker's second insert would find its counters already moved.
KEYS_SPREAD = """
def pytest_collection_modifyitems(items):
    keys = [item for item in items if item.path.name == "test_keys.py"]
    rest = [item for item in items if item.path.name != "test_keys.py"]
    items[:] = [keys[0], rest[0], keys[1], *rest[1:]]
"""


def test_same_spec_same_fingerprint_and_fresh_keys_on_every_backend_and_nothing_left(
    pytester: pytest.Pytester, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``baseline`` and ``small`` built on this backend and cloned into two workers: the builder's
    fingerprint and the one read back from each worker's database (``database_fingerprint``)
    equal the SQLite build's; workers use ``<name>_gwN``; the server is left as it was.

    The same ``-n 2`` run inserts into every table of ``small`` on each worker (``KEYS_SPREAD``
    gives each worker one of the two tests): every table's counter (PostgreSQL sequence,
    MariaDB AUTO_INCREMENT after the clone's ``SHOW CREATE TABLE`` copy, SQLite rowid) is just
    past the scenario's keys in each worker. (One inner run, not two: it saved a ``-n 2`` run
    per backend.)"""
    expected = {name: reference(tmp_path, name) for name in ("baseline", "small")}
    before = server.names()
    out = tmp_path / "read-back"
    monkeypatch.setenv("READ_BACK_DIR", str(out))
    pytester.makeconftest(KEYS_SPREAD)
    pytester.makepyfile(test_fp=READ_BACK, test_keys=FRESH_KEYS)
    result = run(pytester, server, "-n", "2", "--demo-scenario", "baseline", "-v")
    result.assert_outcomes(passed=8)
    summary = result.stdout.str()
    assert sorted(dataset_fingerprints(summary)) == sorted(d.fingerprint for d in expected.values()), summary
    dumps = [json.loads(path.read_text()) for path in out.iterdir()]
    assert {d["worker"] for d in dumps} == {"gw0", "gw1"}, "both workers ran tests"
    for dump in dumps:
        assert dump["built"] == dump["read"] == expected[dump["scenario"]].fingerprint, dump
        name = dump["database"] if server.is_server else Path(dump["database"]).stem
        short = "" if dump["scenario"] == "baseline" else "_[0-9a-f]+"  # the default has none
        assert re.fullmatch(f"{server.name}{short}_{dump['worker']}", name), dump
    keys_workers = re.findall(r"^\[(gw\d)\] .*PASSED test_keys\.py::", summary, re.MULTILINE)
    assert sorted(keys_workers) == ["gw0", "gw1"], "each worker inserted into a clone: " + summary
    (small,) = [e for e in read_summary(summary).datasets if e.scenario == "small"]
    assert sorted(s.worker for s in small.sources) == ["gw0", "gw1"], summary  # built or cloned once each
    assert server.left_behind(before) == [], "a normal run leaves nothing on the server"
    if not server.is_server:
        assert list(server.sqlite_dir.iterdir()) == [], "nor SQLite files or claim locks"


def kept_snapshots(server: Server, cache: Path) -> list[str]:
    """The ``--demo-reuse`` snapshots kept on the server for ``cache``: complete, marked with
    their key, and on PostgreSQL template databases nobody may connect to."""
    if server.backend is None:
        return []
    scope = backend_for(server.url, reuse=True).scope(cache)  # type: ignore[attr-defined]
    found = {n: m for n, m in server.databases().items() if n.startswith(f"demoseed_s_{scope}_")}
    assert all(m is not None and m.role == "snapshot" and m.persistent and m.key for m in found.values())
    if server.kind == "postgresql":
        with server.backend.admin() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datistemplate AND NOT datallowconn"
            ).fetchall()
        assert set(found) <= {row[0] for row in rows}, "kept snapshots are template databases"
    return sorted(found)


def test_n3_builds_each_spec_once_and_reuse_builds_nothing(
    pytester: pytest.Pytester, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted twice: by the scenario's own phase, which logs every generation, and by the
    summary's ``built`` lines. Two specs, ``-n 3``: 2 generations; again with ``--demo-reuse``:
    none; with ``--demo-rebuild``: 2 again (once per spec, not once per worker). Then, still with
    ``--demo-reuse``, editing the module a phase lives in changes both keys: the next run builds
    afresh and drops the snapshots of the old keys, so kept snapshots do not pile up. (Those
    checks were a test of their own, whose first run only made what this test's runs make.)"""
    cache, log = tmp_path / "cache", tmp_path / "generated.log"
    monkeypatch.setenv("GENERATED_LOG", str(log))
    pytester.makeconftest(COUNTED_CONFTEST)
    pytester.makepyfile(test_two=TWO_SPECS)
    args = ("-n", "3", "--demo-scenario", "counted", "--demo-reuse", "--demo-cache-dir", str(cache))

    def generations() -> list[str]:
        lines = log.read_text().splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return lines

    try:
        first = run(pytester, server, *args)
        first.assert_outcomes(passed=8)
        out = first.stdout.str()
        assert len(generations()) == 2 and len(built_lines(out)) == 2, out  # each spec exactly once
        kept = kept_snapshots(server, cache)
        assert len(kept) == (2 if server.is_server else 0) and len(list(cache.glob("*.json"))) == 2

        # in-process, one process: reusing builds nothing however many workers would clone
        second = run_inprocess(pytester, server, *args[2:])
        second.assert_outcomes(passed=8)
        assert generations() == [] and built_lines(second.stdout.str()) == [], second.stdout.str()

        rebuilt = run(pytester, server, "-n", "2", *args[2:], "--demo-rebuild")  # 2 workers do
        rebuilt.assert_outcomes(passed=8)
        assert len(generations()) == 2, "--demo-rebuild builds once per run"
        assert len(built_lines(rebuilt.stdout.str())) == 2
        old_keys, old_kept = {p.stem for p in cache.glob("*.json")}, kept_snapshots(server, cache)
        assert len(old_kept) == len(kept), "rebuilt snapshots replace the kept ones"

        # editing the module a phase lives in changes both keys: built afresh, stale ones dropped
        pytester.makeconftest(COUNTED_CONFTEST + "\n# edited: the phase's module changed\n")
        edited = run(pytester, server, *args[2:])
        edited.assert_outcomes(passed=8)
        assert len(generations()) == 2, "a changed phase is a new key: rebuilt"
        assert len(built_lines(edited.stdout.str())) == 2, edited.stdout.str()
        new_keys, new_kept = {p.stem for p in cache.glob("*.json")}, kept_snapshots(server, cache)
        assert len(new_keys) == len(old_keys) == 2 and not new_keys & old_keys, (old_keys, new_keys)
        if server.is_server:
            assert len(new_kept) == len(old_kept) == 2, (old_kept, new_kept)
            assert not set(new_kept) & set(old_kept), (old_kept, new_kept)
        else:
            assert {p.stem for p in cache.glob("*.sqlite")} == new_keys, "the old files are gone"
    finally:
        drop_cache(server, cache)


def test_keep_leaves_worker_databases_and_the_next_run_replaces_them(
    pytester: pytest.Pytester, db_server: Server
) -> None:
    server = db_server
    pytester.makepyfile(test_k="def test_it(demo_dataset):\n    pass\n")
    run(pytester, server, "--demo-scenario", "small", "--demo-keep").assert_outcomes(passed=1)
    kept = server.databases()[server.name]
    assert kept is not None and kept.role == "kept"
    run(pytester, server, "--demo-scenario", "small").assert_outcomes(passed=1)
    assert server.name not in server.databases()


OVERLAP = """
import os, pathlib, time
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

BARRIER = pathlib.Path(os.environ["BARRIER_DIR"])

@pytest.mark.parametrize("i", range(2))
def test_overlap(demo_session, demo_dataset, demo_connection, i):
    me = os.environ["RUN_NAME"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (BARRIER / f"{me}-{worker}-{i}").write_text(demo_connection.engine.url.database)
    deadline = time.monotonic() + 60
    while len(list(BARRIER.iterdir())) < 4:  # both runs' two workers hold their databases now
        assert time.monotonic() < deadline, "the other run never reached its tests"
        time.sleep(0.05)
    election_id = demo_session.scalar(sa.select(Party.election_id).limit(1))
    demo_session.add(Party(name=me, election_id=election_id, number=90 + i, color="#00000" + str(i)))
    demo_session.commit()
    names = demo_session.scalars(sa.select(Party.name)).all()
    assert len(names) == demo_dataset.counts["parties"] + 1 and me in names
"""


def test_two_runs_at_once_on_one_server_do_not_touch_each_others_databases(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    """Two ``-n 2`` runs with the same ``--demo-db-url``, all four workers inside a test at once
    (xdist sends two tests to two workers one each):
    one gets ``<name>_gwN``, the other ``<name>_<run id>_gwN``; both pass; nothing is left
    (on SQLite, an explicit file URL shared by two runs behaves the same)."""
    before = server.names()
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    pytester.makepyfile(test_overlap=OVERLAP)
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-n", "2", "--demo-db-url", server.url]
    command += ["--demo-scenario", "small"]
    runs = {}
    for name in ("one", "two"):
        env = {**os.environ, "BARRIER_DIR": str(barrier), "RUN_NAME": name}
        runs[name] = subprocess.Popen(
            [*command, f"--basetemp={tmp_path / name}"],
            cwd=pytester.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    outputs = {name: proc.communicate(timeout=180)[0].decode() for name, proc in runs.items()}
    for name, proc in runs.items():
        assert proc.returncode == 0, outputs[name]
        assert pytest.RunResult.parse_summary_nouns(outputs[name].splitlines()) == {"passed": 2}
    used = {name: {Path(p.read_text()).stem for p in barrier.glob(f"{name}-*")} for name in runs}
    assert used["one"] and used["two"] and not used["one"] & used["two"], used
    assert all(db.startswith(server.name + "_") for db in used["one"] | used["two"]), used
    assert {f"{server.name}_gw0", f"{server.name}_gw1"} & (used["one"] | used["two"]), used
    assert server.left_behind(before) == [], "both runs dropped what they made"
    if not server.is_server:
        assert list(server.sqlite_dir.iterdir()) == [], "no SQLite file or claim lock left"
