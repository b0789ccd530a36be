"""The headline: one suite of tests that each need a `baseline`-size election, written three ways.

    python benchmarks/bench_headline.py [--backends sqlite,postgresql] [--tests 300] [--repeat 2]
                                        [--a-tests 1,3] [--write]

The same test body (list the election's committees, count one committee's votes and roll,
insert a party, flush, count the parties: three queries and a write in the test's transaction)
runs against an election of `baseline` size (1 election, 4 parties, 14 candidates, 8 committees,
2,000 electors, 15 members, 300 guarantees, 1,500 attendances: 3,842 rows) made three ways, with
the built-in election models and factory_boy factories (``pytest_demoseed.election``):

- (a) **factory_boy per test**: function-scoped fixtures as pytest-factoryboy users write them:
  the factories bound to the test's session, ``create_batch`` for each table, flushed (the
  factories' ``sqlalchemy_session_persistence = "flush"``), inside a transaction rolled back
  after the test. Written by hand here (pytest-factoryboy's ``register`` makes the same
  function-scoped fixtures around the same factories; it is not installed).
- (b) **factory_boy once + rollback recipe**: a session-scoped fixture builds the election once
  per worker with the same factories and commits; each test gets
  ``Session(bind=connection, join_transaction_mode="create_savepoint")`` inside
  ``connection.begin()`` (SQLAlchemy's "Joining a Session into an External Transaction"), loads
  the election with ``session.get`` and is rolled back: what a careful team writes by hand.
- (c) **this plugin**: ``demo_session`` + ``demo_election`` with ``--demo-scenario=baseline``.

(a) and (b) run with this plugin disabled (``-p no:demoseed -p no:demoseed-election``), each
worker in a database of its own (SQLite: a file; PostgreSQL: a database), schema made with
``create_all``. SQLite gets the pysqlite transaction recipe (and foreign keys on) in all three.

Measured: whole ``pytest`` wall time of a subprocess, interpreter start included, serial and
``-n 2``, on each backend; (b) and (c) run all ``--tests`` tests, best of ``--repeat``, interleaved.
(a) costs seconds per test, so it runs on two subsets (``--a-tests``, per worker: 1 and 3 tests
serially, 2 and 6 under ``-n 2``), once each, and its wall time for ``--tests`` tests is the
straight line through those two runs: the second run's time plus the per-test slope times the
tests left. Prints a Markdown section; ``--write`` puts it at the top of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from results import RESULTS, machine_line, replace_section

PG_SERVER = "postgresql+psycopg://root@127.0.0.1:5432/"
DISABLED = ["-p", "no:demoseed", "-p", "no:demoseed-election"]

TEST_FILE = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Attendance, Committee, Elector, Party


@pytest.mark.parametrize("i", range({n}))
def test_committee(i, {session}, {election}):
    session, election = {session}, {election}
    committees = session.scalars(
        sa.select(Committee).where(Committee.election_id == election.id).order_by(Committee.code)
    ).all()
    committee = committees[i % len(committees)]
    voted = session.scalar(sa.select(sa.func.count(Attendance.id)).where(Attendance.committee_id == committee.id))
    on_roll = session.scalar(sa.select(sa.func.count(Elector.id)).where(Elector.committee_id == committee.id))
    assert len(committees) == 8 and 0 < voted <= on_roll
    session.add(Party(election_id=election.id, name=f"New {{i}}", number=1000 + i, color=f"#{{i:06x}}"))
    session.flush()
    assert session.scalar(sa.select(sa.func.count(Party.id)).where(Party.election_id == election.id)) == 5
"""

#: The hand-written fixtures of (a) and (b): an engine per worker on a database of its own, the
#: rollback recipe per test, and an election of baseline size made with the built-in factories.
CONFTEST = """
import os

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from pytest_demoseed.election import factories as f
from pytest_demoseed.election.models import Base, Election

FACTORIES = list(f.ALL_FACTORIES.values())
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def make_election():
    \"\"\"baseline's shape: 1 election, 4 parties x 3 candidates + 2 independents, 8 committees,
    2,000 electors, 15 members, 300 guarantees, 1,500 attendances (3,842 rows).\"\"\"
    election = f.ElectionFactory()
    parties = f.PartyFactory.create_batch(4, election=election)
    for party in parties:
        f.CandidateFactory.create_batch(3, election=election, party=party)
    f.CandidateFactory.create_batch(2, election=election, party=None)
    committees = f.CommitteeFactory.create_batch(8, election=election)
    electors = []
    for committee in committees:
        electors += f.ElectorFactory.create_batch(250, election=election, committee=committee)
    members = f.MemberFactory.create_batch(15, election=election, committee=committees[0])
    for k, elector in enumerate(electors[:300]):
        f.GuaranteeFactory(election=election, member=members[k % 15], elector=elector, party=parties[k % 4])
    for k, elector in enumerate(electors):
        if k % 4 != 3:
            f.AttendanceFactory(election=election, elector=elector)
    return election


def bind(session):
    for factory in FACTORIES:
        factory._meta.sqlalchemy_session = session


@pytest.fixture(scope="session")
def engine():
    url = sa.make_url(os.environ["HEADLINE_URL"])
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        url = url.set(database=url.database.replace(".sqlite", f"_{WORKER}.sqlite"))
    else:
        url = url.set(database=f"{url.database}_{WORKER}")
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    engine = sa.create_engine(url)
    if sqlite:  # SQLAlchemy's pysqlite recipe, so SAVEPOINTs and rollback work
        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    if sqlite:
        os.remove(url.database)
    else:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{url.database}"')
        admin.dispose()


@pytest.fixture()
def session(engine):
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    bind(session)
    yield session
    session.close()
    transaction.rollback()
    connection.close()
"""

ELECTION_PER_TEST = """

@pytest.fixture()
def election(session):
    return make_election()
"""

ELECTION_ONCE = """

@pytest.fixture(scope="session")
def election_id(engine):
    with Session(engine) as session:
        bind(session)
        election = make_election()
        session.commit()
        return election.id


@pytest.fixture()
def election(session, election_id):
    return session.get(Election, election_id)
"""

ARMS = {
    "a": "(a) factory_boy per test (create_batch + flush)",
    "b": "(b) factory_boy once per worker + rollback recipe",
    "c": "(c) pytest-demoseed (`demo_session` + `demo_election`)",
}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DEMOSEED_", "PYTEST_", "HEADLINE_"))}


def write_arm(root: Path, arm: str, tests: int) -> Path:
    project = root / arm
    project.mkdir(exist_ok=True)
    (project / "pytest.ini").write_text("[pytest]\n")  # rootdir here, no project's addopts
    names = {"session": "demo_session", "election": "demo_election"} if arm == "c" else {}
    names = names or {"session": "session", "election": "election"}
    (project / "test_suite.py").write_text(TEST_FILE.format(n=tests, **names))
    if arm != "c":
        (project / "conftest.py").write_text(CONFTEST + (ELECTION_PER_TEST if arm == "a" else ELECTION_ONCE))
    return project


def run(root: Path, backend: str, arm: str, tests: int, workers: int) -> float:
    """Whole wall seconds of one ``pytest`` run of ``tests`` tests of ``arm``."""
    project = write_arm(root, arm, tests)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += ["-n", str(workers)] if workers else []
    env = clean_env()
    name = f"hb_{arm}_{uuid.uuid4().hex[:8]}"
    if arm == "c":
        command += ["--demo-scenario=baseline", "--demo-progress=none"]
        if backend == "postgresql":
            command.append(f"--demo-db-url={PG_SERVER}{name}")
    else:
        command += DISABLED
        env["HEADLINE_URL"] = (
            f"{PG_SERVER}{name}" if backend == "postgresql" else f"sqlite:///{root}/{name}.sqlite"
        )
    began = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0 or f"{tests} passed" not in done.stdout:
        raise SystemExit(
            f"{backend} {arm} x{tests} -n {workers} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
        )
    return wall


@dataclass
class Row:
    backend: str
    mode: str
    a: float
    a_runs: str
    b: float
    c: float


def measure(root: Path, backend: str, workers: int, options: argparse.Namespace) -> Row:
    per_worker = [int(k) for k in options.a_tests.split(",")]
    k1, k2 = (k * max(workers, 1) for k in per_worker)
    times: dict[str, list[float]] = {"b": [], "c": []}
    for arm in times:  # warm-ups: file cache, .pyc files
        run(root, backend, arm, 2 * max(workers, 1), workers)
    for _ in range(options.repeat):
        for arm in times:
            times[arm].append(run(root, backend, arm, options.tests, workers))
    w1, w2 = run(root, backend, "a", k1, workers), run(root, backend, "a", k2, workers)
    a = w2 + (w2 - w1) / (k2 - k1) * (options.tests - k2)
    mode = "serial" if not workers else f"-n {workers}"
    print(
        backend,
        mode,
        {arm: [round(t, 2) for t in found] for arm, found in times.items()},
        (w1, w2),
        flush=True,
    )
    a_runs = f"{k1} tests {w1:.1f} s, {k2} tests {w2:.1f} s"
    return Row(backend, mode, a, a_runs, min(times["b"]), min(times["c"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2, help="runs of (b) and (c); the best counts")
    parser.add_argument("--a-tests", default="1,3", help="(a)'s two subsets, tests per worker")
    parser.add_argument("--workers", default="0,2", help="0 = serial")
    parser.add_argument(
        "--write", action="store_true", help="put this section at the top of benchmarks/RESULTS.md"
    )
    options = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        for backend in options.backends.split(","):
            for workers in (int(w) for w in options.workers.split(",")):
                rows.append(measure(root, backend, workers, options))
    text = report(rows, options)
    print(text)
    if options.write:
        replace_section("headline", text)
        to_top("headline")


def report(rows: list[Row], options: argparse.Namespace) -> str:
    tests = options.tests
    table = [
        f"| backend | run | {ARMS['a']} | {ARMS['b']} | {ARMS['c']} | (a) / (c) | (b) / (c) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        table.append(
            f"| {r.backend} | {r.mode} | {r.a:.0f} s (extrapolated) | {r.b:.2f} s | **{r.c:.2f} s** "
            f"| **{r.a / r.c:.0f}x** | {r.b / r.c:.1f}x |"
        )
    worst_a = min(r.a / r.c for r in rows)
    worst_b = min(r.b / r.c for r in rows)
    met_a = "met" if worst_a >= 20 else "NOT met"
    met_b = "met" if worst_b > 1 else "NOT met"
    subsets = "; ".join(f"{r.backend} {r.mode}: {r.a_runs}" for r in rows)
    return "\n".join(
        [
            f"## Headline: a suite of {tests} tests that each need a `baseline` election (issue 16)",
            "",
            machine_line(" ".join(["python benchmarks/bench_headline.py", *sys.argv[1:]]))
            + f" SQLAlchemy {version('SQLAlchemy')}, factory_boy {version('factory_boy')}, "
            f"Faker {version('Faker')}, pytest {version('pytest')}, pytest-xdist {version('pytest-xdist')}.",
            "",
            f"Whole `pytest` wall time (a subprocess each, interpreter start, schema, build and "
            f"clone included) of the same {tests} tests (three queries and an insert each, in the "
            f"test's rolled-back transaction) against an election of `baseline` size (3,842 rows), "
            f"made three ways with the built-in election models and factory_boy factories; "
            f"(b) and (c) best of {options.repeat}, interleaved. (a) runs for seconds per test, so it "
            f"was run once on two subsets and extrapolated along the straight line through them to "
            f"{tests} tests ({subsets}). The script's docstring has the three fixtures as written.",
            "",
            *table,
            "",
            f"Targets: (c) at least 20x faster than (a): {met_a} (worst {worst_a:.0f}x); (c) faster "
            f"than (b): {met_b} (worst {worst_b:.1f}x).",
        ]
    )


def to_top(name: str) -> None:
    """Move this section to just under RESULTS.md's title line, where readers start."""
    text = RESULTS.read_text()
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    start, stop = text.index(begin), text.index(end) + len(end) + 1
    block, rest = text[start:stop], text[:start] + text[stop:]
    title_end = rest.index("\n") + 1
    if rest.find(begin) == -1:
        rest = rest[:title_end] + "\n" + block + rest[title_end:]
    RESULTS.write_text(rest.replace("\n\n\n\n", "\n\n"))


if __name__ == "__main__":
    main()
