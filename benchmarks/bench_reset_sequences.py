"""What ``demo_reset_sequences`` costs per test (issue 15, item 11), per backend.

    python benchmarks/bench_reset_sequences.py [--tests 200] [--repeat 3] [--backends sqlite,postgresql,mariadb] [--write]

Times whole ``python -m pytest`` subprocess runs of ``--tests`` tests on the ``small`` scenario,
with and without ``-o demo_reset_sequences=true``, interleaved, best of ``--repeat`` each after
one warm-up run of each. Two suites: every test inserts a row through ``demo_session`` (each test
moves a counter, so each reset writes), and every test only reads (the reset finds nothing moved).
The cost per test is (best with - best without) / tests; on a shared machine its noise is about
what SQLite shows (where the reset does nothing). So the reset call itself is also timed
in-process on the servers, median of ``--calls`` calls, with a counter moved before each call
(what follows a test that inserted) and with none moved. Server URLs come from
``DEMOSEED_TEST_PG`` / ``DEMOSEED_TEST_MARIADB`` (as in tests/servers.py). Prints a Markdown
section; ``--write`` puts it in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from results import machine_line, replace_section

SERVERS = {
    "postgresql": os.environ.get("DEMOSEED_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432"),
    "mariadb": os.environ.get("DEMOSEED_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306"),
}

SUITES = {
    "insert": """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

@pytest.mark.parametrize("n", range({tests}))
def test_insert(n, demo_session, demo_dataset):
    party = Party(name="X", election_id=demo_dataset.root_id, number=99, color="#000099")
    demo_session.add(party)
    demo_session.flush()
    assert party.id is not None
""",
    "read": """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

@pytest.mark.parametrize("n", range({tests}))
def test_read(n, demo_session):
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Party)) == 2
""",
}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DEMOSEED_") and k != "PYTEST_ADDOPTS"}


def pytest_run(project: Path, test_file: str, url: str, reset: bool, tests: int) -> float:
    """Wall seconds of one whole pytest run."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += ["-p", "no:xdist", "--demo-scenario=small", f"--demo-db-url={url}", test_file]
    if reset:
        command += ["-o", "demo_reset_sequences=true"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=clean_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or f"{tests} passed" not in done.stdout:
        raise SystemExit(f"pytest {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def time_reset_calls(backend: str, calls: int) -> tuple[float, float]:
    """Median ms of one ``restore_counters`` call with nothing moved, and with one counter moved
    (a rolled-back insert before each call), on a scratch database of 8 tables."""
    import sqlalchemy as sa

    from pytest_demoseed.storage.backends import backend_for
    from pytest_demoseed.storage.engines import make_engine

    url = f"{SERVERS[backend]}/demoseed_bench_{uuid.uuid4().hex[:6]}"
    serial = "serial" if backend == "postgresql" else "int auto_increment"
    server = backend_for(url, run_id="benchreset")
    server.create_database(url)
    try:
        engine = make_engine(url, poolclass=sa.pool.QueuePool)
        with engine.begin() as conn:
            for i in range(8):
                conn.exec_driver_sql(f"CREATE TABLE t{i} (id {serial} PRIMARY KEY, x int)")
            conn.exec_driver_sql("INSERT INTO t0 (x) VALUES (1)")
        saved = server.read_counters(engine)

        def move() -> None:
            with engine.connect() as conn:
                conn.exec_driver_sql("INSERT INTO t0 (x) VALUES (2)")
                conn.rollback()

        found = []
        for before in (None, move):
            times = []
            for _ in range(calls):
                if before is not None:
                    before()
                started = time.perf_counter()
                server.restore_counters(engine, saved)
                times.append(time.perf_counter() - started)
            found.append(statistics.median(times) * 1000)
        engine.dispose()
    finally:
        server.drop_database(url)
    return found[0], found[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--calls-only", action="store_true", help="time the reset calls only")
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        project = Path(name)
        (project / "pytest.ini").write_text("[pytest]\n")  # rootdir here, no project's addopts
        for suite, source in SUITES.items():
            (project / f"test_{suite}.py").write_text(source.format(tests=options.tests))
        for backend in [] if options.calls_only else options.backends.split(","):
            base = f"demoseed_bench_{uuid.uuid4().hex[:6]}"
            url = (
                f"sqlite:///{project / base}.sqlite" if backend == "sqlite" else f"{SERVERS[backend]}/{base}"
            )
            for suite in SUITES:
                test_file = f"test_{suite}.py"
                times: dict[bool, list[float]] = {False: [], True: []}
                for reset in (False, True):  # warm-ups
                    pytest_run(project, test_file, url, reset, options.tests)
                for _ in range(options.repeat):
                    for reset in (False, True):
                        times[reset].append(pytest_run(project, test_file, url, reset, options.tests))
                off, on = min(times[False]), min(times[True])
                per_test = (on - off) / options.tests * 1000
                rows.append(f"| {backend} | {suite} | {off:.2f} s | {on:.2f} s | {per_test:+.2f} ms |")
                print(rows[-1], file=sys.stderr)
    calls = [
        f"| {backend} | {unmoved:.2f} ms | {moved:.2f} ms |"
        for backend in options.backends.split(",")
        if backend in SERVERS
        for unmoved, moved in [time_reset_calls(backend, options.calls)]
    ]
    lines = [
        "## `demo_reset_sequences` cost per test (issue 15, item 11)",
        "",
        machine_line("python benchmarks/bench_reset_sequences.py --write"),
        "",
        f"Whole `python -m pytest` runs (a subprocess each, no xdist) of {options.tests} tests on the "
        f"`small` scenario, without and with `-o demo_reset_sequences=true`, interleaved, best of "
        f"{options.repeat} each after a warm-up run of each. `insert`: each test inserts a party "
        "through `demo_session` (so each reset puts a counter back); `read`: each test only reads "
        "(the reset finds nothing moved).",
        "",
        "| backend | suite | run without | run with | cost per test |",
        "| --- | --- | ---: | ---: | ---: |",
        *rows,
        "",
        f"The reset call alone, in-process, median of {options.calls} calls on a database of 8 tables: "
        "a reset test makes one call after it (a counter moved if it inserted), and one before it "
        "only when a test without the reset used the database since the last reset.",
        "",
        "| backend | nothing moved | one counter moved |",
        "| --- | ---: | ---: |",
        *calls,
    ]
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("reset-sequences", text)


if __name__ == "__main__":
    main()
