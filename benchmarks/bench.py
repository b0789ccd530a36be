"""Side by side, in one process, on SQLite and PostgreSQL: the write limit, the practical limit,
naive factory_boy, and this plugin's builder; then the per-test cost of the isolation fixtures
and the wall time of a suite of small tests. Prints Markdown; ``--write`` puts it in RESULTS.md.

    python benchmarks/bench.py [--backends sqlite,postgresql] [--rows 100000] [--naive-rows 2000]
                               [--skip-large] [--repeat 2] [--tests 400] [--write]

Paths, on the same elector-like rows (id, two foreign keys, name, gender, birth date, national id):
1. raw DB-API ``executemany`` (PostgreSQL: psycopg 3 ``COPY``) of tuples computed beforehand;
2. the same, plus the cheapest generation (a seeded ``random.Random`` over small pools);
3. naive factory_boy ``create_batch`` with a session, ``persistence="flush"``, timed on
   ``--naive-rows`` rows and extrapolated linearly (said so in the table);
4. the plugin's builder (``build()``): the electors phase of ``small`` at ``--rows`` electors,
   and the ``baseline`` and ``large`` scenarios whole.
With ``large``, path 2 also runs on large's whole schema: the same row counts into every table
(seeded pools, keys and unique values as the constraints need, the same indexes), so ``large``
is compared with its own practical limit.
Each path runs ``--repeat`` times on a fresh database, the paths' runs interleaved (round 1 of
every path, then round 2, ...) so that a noisy neighbour weighs on all of them alike; the table
shows the best and every run.
Peak memory is the process's peak RSS during that path (the high-water mark is reset before
each run through /proc/self/clear_refs, Linux only), shown with the RSS it started from.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import psycopg
from results import machine_line, replace_section
from sqlalchemy.orm import Session

from pytest_demoseed.build.builder import build
from pytest_demoseed.election import models
from pytest_demoseed.election.factories import ElectionFactory, ElectorFactory
from pytest_demoseed.election.naming import national_id
from pytest_demoseed.scenario.spec import resolve_spec
from pytest_demoseed.storage.engines import make_engine

DAY = dt.date(2026, 3, 1)
PG_SERVER = "postgresql+psycopg://root@127.0.0.1:5432/"
COLUMNS = ("id", "election_id", "committee_id", "full_name", "gender", "birth_date", "national_id")


# -- memory and time --------------------------------------------------------------------------


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _release_memory() -> None:
    gc.collect()
    with suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class Measured:
    path: str
    rows: int
    seconds: float
    start_mb: float
    peak_mb: float
    runs: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def measure(path: str, rows: int, fn: Callable[[], object]) -> Measured:
    _release_memory()
    start = _rss_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    began = time.perf_counter()
    fn()
    seconds = time.perf_counter() - began
    return Measured(path, rows, seconds, start, _rss_mb("VmHWM"))


# -- databases ----------------------------------------------------------------------------------


class Backend:
    """Fresh databases with the election schema, one per path, dropped at the end."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name, self.tmp = name, tmp
        self.made: list[str] = []

    def url(self, label: str) -> str:
        if self.name == "sqlite":
            return f"sqlite:///{self.tmp / label}.sqlite"
        return f"{PG_SERVER}demobench_{os.getpid()}_{label}"

    def fresh(self, label: str, parents: bool = True) -> str:
        url = self.url(label)
        if self.name == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
            self._admin(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
            self.made.append(url)
        engine = make_engine(url)
        models.Base.metadata.create_all(engine)
        if parents:
            with engine.begin() as conn:
                conn.execute(models.Election.__table__.insert(), {"id": 1, "name": "E", "election_date": DAY})
                conn.execute(
                    models.Committee.__table__.insert(),
                    {"id": 1, "election_id": 1, "name": "C", "code": "C1"},
                )
        engine.dispose()
        return url

    @staticmethod
    def _admin(sql: str) -> None:
        with psycopg.connect("host=127.0.0.1 port=5432 user=root dbname=postgres", autocommit=True) as conn:
            conn.execute(sql)

    def drop_all(self) -> None:
        for url in self.made:
            self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        self.made.clear()


@contextmanager
def dbapi(url: str) -> Iterator[object]:
    """A raw DB-API connection, committed on success."""
    if url.startswith("sqlite"):
        conn: object = sqlite3.connect(url.removeprefix("sqlite:///"))
    else:
        conn = psycopg.connect(f"host=127.0.0.1 port=5432 user=root dbname={url.rsplit('/', 1)[1]}")
    try:
        yield conn
        conn.commit()  # type: ignore[attr-defined]
    finally:
        conn.close()  # type: ignore[attr-defined]


def write_rows(url: str, rows: list[tuple[object, ...]]) -> None:
    """Path 1's write: one executemany (SQLite) or one COPY (PostgreSQL), one transaction."""
    with dbapi(url) as conn:
        write_table(conn, url, "electors", COLUMNS, rows)


def write_table(
    conn: object, url: str, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> None:
    """One executemany (SQLite) or one COPY (PostgreSQL) of ``rows`` into ``table``."""
    names = ", ".join(f'"{c}"' for c in columns)
    if url.startswith("sqlite"):
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # type: ignore[attr-defined]
    else:
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)


def precomputed(n: int) -> list[tuple[object, ...]]:
    return [(i, 1, 1, "Ann Lee", "F", "1980-01-01", national_id(i)) for i in range(1, n + 1)]


def generated(n: int) -> list[tuple[object, ...]]:
    """Path 2's generation: seeded random choices over small pools, nothing else."""
    rng = random.Random(1)
    firsts, lasts = ["Ann", "Bob", "Cy", "Di"] * 50, ["Lee", "Kim", "Ray", "Fox"] * 250
    return [
        (
            i,
            1,
            1,
            f"{rng.choice(firsts)} {rng.choice(lasts)}",
            "F" if rng.random() < 0.5 else "M",
            (DAY - dt.timedelta(days=rng.randrange(6575, 32850))).isoformat(),
            national_id(i),
        )
        for i in range(1, n + 1)
    ]


def large_tables(sqlite_dates: bool) -> Iterator[tuple[str, tuple[str, ...], list[tuple[object, ...]]]]:
    """Path 2 on large's schema: every table at large's row counts (read from its spec), the
    cheapest seeded values that meet the constraints (unique keys, codes, emails, national ids,
    one guarantee and one attendance per elector at most, in elector order as the builder
    writes them). Dates as text on SQLite, as the builder binds them; objects for COPY."""
    spec = resolve_spec("large", 42, {})
    get = spec.phase_settings
    rng = random.Random(1)
    parties, per_party = get("parties")["count"], get("parties")["candidates_per_party"]
    candidates = parties * per_party + get("parties")["independent_candidates"]
    committees, electors = get("committees")["count"], get("electors")["count"]
    members = get("members")["count"]
    guarantees = min(members * get("guarantees")["per_member"], electors)
    attendances = round(get("attendance")["rate"] * electors)
    day = DAY.isoformat() if sqlite_dates else DAY
    opening = dt.datetime.combine(DAY, dt.time(8))

    def moment(seconds: int) -> object:
        at = opening + dt.timedelta(seconds=seconds)
        return at.isoformat(" ", "microseconds") if sqlite_dates else at

    yield "elections", ("id", "name", "election_date"), [(1, "E", day)]
    yield (
        "parties",
        ("id", "election_id", "name", "number", "color"),
        [(i, 1, f"Party {i}", i, f"#{i:06x}") for i in range(1, parties + 1)],
    )
    yield (
        "candidates",
        ("id", "election_id", "party_id", "name", "number"),
        [
            (i, 1, (i - 1) // per_party + 1 if i <= parties * per_party else None, "Ann Lee", i)
            for i in range(1, candidates + 1)
        ],
    )
    yield (
        "committees",
        ("id", "election_id", "name", "code"),
        [(i, 1, "Town Polling Committee", f"C{i:04d}") for i in range(1, committees + 1)],
    )
    roll = [(*row[:2], rng.randrange(1, committees + 1), *row[3:]) for row in generated(electors)]
    yield (
        "electors",
        COLUMNS,
        roll if sqlite_dates else [(*r[:5], dt.date.fromisoformat(r[5]), r[6]) for r in roll],
    )
    yield (
        "members",
        ("id", "election_id", "committee_id", "name", "email", "phone"),
        [
            (i, 1, i % committees + 1, "Ann Lee", f"ann.lee.{i}@example.org", "+1-555-555-5555")
            for i in range(1, members + 1)
        ],
    )
    pledged = sorted(rng.sample(range(1, electors + 1), guarantees))
    yield (
        "guarantees",
        ("id", "election_id", "member_id", "elector_id", "party_id", "group"),
        [
            (i, 1, rng.randrange(1, members + 1), e, rng.randrange(1, parties + 1), "strong")
            for i, e in enumerate(pledged, 1)
        ],
    )
    voted = sorted(rng.sample(range(1, electors + 1), attendances))
    yield (
        "attendances",
        ("id", "election_id", "elector_id", "committee_id", "attended_at"),
        [(i, 1, e, roll[e - 1][2], moment(rng.randrange(43200))) for i, e in enumerate(voted, 1)],
    )


#: Rows per executemany/COPY in path 2 on large's schema, as the builder's batches of large: on
#: PostgreSQL one COPY of 500,000 electors takes longer than fifty of 10,000 (its foreign-key
#: checks are queued to the end of each statement).
LARGE_CHUNK = 10_000


#: The plain indexes (not unique, not behind a constraint) of the schema, with what made each.
_PLAIN_INDEXES = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql NOT LIKE 'CREATE UNIQUE%'",
    "postgresql": (
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = current_schema()"
        " AND NOT x.indisunique AND NOT x.indisprimary"
    ),
}


def large_practical(url: str, indexes_after: bool = False) -> int:
    """Path 2 for ``large``: generate each table and write it in chunks, in one transaction.
    ``indexes_after``: the plain indexes dropped before the writes and made again after them, as
    the builder does for the empty tables it loads (``build/indexes.py``)."""
    written = 0
    with dbapi(url) as conn:
        execute = conn.execute  # type: ignore[attr-defined]
        made = []
        if indexes_after:  # the catalog is read only then: the plain path times its writes alone
            made = list(execute(_PLAIN_INDEXES["sqlite" if url.startswith("sqlite") else "postgresql"]))
            for name, _ in made:
                execute(f'DROP INDEX "{name}"')
        for table, columns, rows in large_tables(url.startswith("sqlite")):
            for start in range(0, len(rows), LARGE_CHUNK):
                write_table(conn, url, table, columns, rows[start : start + LARGE_CHUNK])
            written += len(rows)
        for _, sql in made:
            execute(sql)
    return written


def naive(url: str, n: int) -> None:
    """Path 3: what users write today, in its kindest form (flush, one commit at the end)."""
    engine = make_engine(url)
    with Session(engine) as session:
        election = session.get(models.Election, 1)
        committee = session.get(models.Committee, 1)
        for factory in (ElectionFactory, ElectorFactory):
            factory._meta.sqlalchemy_session = session
            factory._meta.sqlalchemy_session_persistence = "flush"
        ElectorFactory.create_batch(n, election=election, committee=committee)
        session.commit()
    engine.dispose()


def builder(url: str, scenario: str, overrides: dict[str, dict[str, object]]) -> int:
    engine = make_engine(url)
    try:
        return build(engine, resolve_spec(scenario, 42, overrides)).total_rows
    finally:
        engine.dispose()


# -- one backend, side by side ------------------------------------------------------------------


@dataclass
class BenchPath:
    """One path of the table: its label, rows, and ``prepare`` (a fresh database, not timed,
    returning the timed call). ``after`` runs once the path's run is measured (not timed)."""

    label: str
    rows: int
    prepare: Callable[[], Callable[[], object]]
    after: Callable[[Measured], None] = lambda measured: None


def interleaved(repeat: int, paths: list[BenchPath]) -> list[Measured]:
    """Run every path ``repeat`` times, round by round (each path once per round), each run on a
    fresh database; per path keep the quickest, note every time, report the highest peak RSS."""
    runs: list[list[Measured]] = [[] for _ in paths]
    for _ in range(repeat):
        for path, done in zip(paths, runs, strict=True):
            done.append(measure(path.label, path.rows, path.prepare()))
            path.after(done[-1])
    best_runs = []
    for done in runs:
        best = min(done, key=lambda m: m.seconds)
        best.peak_mb = max(m.peak_mb for m in done)
        best.runs = [m.seconds for m in done]
        best_runs.append(best)
    return best_runs


def side_by_side(backend: Backend, n: int, naive_n: int, large: bool, repeat: int) -> list[Measured]:
    how = "executemany" if backend.name == "sqlite" else "COPY"

    def on(
        label: str, run: Callable[[str], object], parents: bool = True
    ) -> Callable[[], Callable[[], object]]:
        def prepare() -> Callable[[], object]:
            url = backend.fresh(label, parents=parents)
            return lambda: run(url)

        return prepare

    def limit() -> Callable[[], object]:
        # The tuples are made here, untimed, and dropped with the run: kept alive through the
        # other paths, 100,000 tuples would slow them (every full garbage collection walks them).
        url, rows = backend.fresh("limit"), precomputed(n)
        return lambda: write_rows(url, rows)

    made: dict[str, int] = {}

    def builds(scenario: str, overrides: dict[str, dict[str, object]]) -> Callable[[], Callable[[], object]]:
        return on(
            f"b_{scenario}", lambda url: made.update({scenario: builder(url, scenario, overrides)}), False
        )

    def rows_made(scenario: str) -> Callable[[Measured], None]:
        return lambda measured: setattr(measured, "rows", made[scenario])

    only_electors = {
        "electors": {"count": n},
        "members": {"count": 1},
        "guarantees": {"enabled": False},
        "attendance": {"enabled": False},
    }
    paths = [
        BenchPath(f"1 write limit: raw {how} of precomputed tuples", n, limit),
        BenchPath(
            "2 practical limit: seeded pools + the same write",
            n,
            on("practical", lambda url: write_rows(url, generated(n))),
        ),
        BenchPath("3 naive", naive_n, on("naive", lambda url: naive(url, naive_n))),
        BenchPath(
            "4 builder: small, electors phase at this count",
            n,
            builds("small", only_electors),
            rows_made("small"),
        ),
        BenchPath("4 builder: baseline", 0, builds("baseline", {}), rows_made("baseline")),
    ]
    if large:
        paths += [
            BenchPath(
                "2 practical limit: large's tables, seeded pools + the same writes",
                0,
                on("practical_large", lambda url: made.update(practical_large=large_practical(url)), False),
                rows_made("practical_large"),
            ),
            BenchPath("4 builder: large", 0, builds("large", {}), rows_made("large")),
        ]
    try:
        results = interleaved(repeat, paths)
    finally:
        backend.drop_all()
    timed = results[2]
    scale = n / naive_n
    results[2] = Measured(
        f"3 naive factory_boy create_batch, flush (timed on {naive_n:,}, x{scale:g})",
        n,
        timed.seconds * scale,
        timed.start_mb,
        timed.peak_mb,
        runs=[t * scale for t in timed.runs],
    )
    if large:
        big = made["large"]
        results.append(
            Measured(
                f"3 naive, extrapolated to large's {big:,} rows",
                big,
                timed.seconds * big / naive_n,
                float("nan"),
                float("nan"),
            )
        )
    return results


def table(results: list[Measured]) -> list[str]:
    lines = [
        "| path | rows | seconds (best) | rows/s | every run, s | peak RSS MB (at start) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        memory = "n/a" if r.peak_mb != r.peak_mb else f"{r.peak_mb:.0f} ({r.start_mb:.0f})"
        runs = ", ".join(f"{t:.2f}" for t in r.runs) or "n/a"
        lines.append(f"| {r.path} | {r.rows:,} | {r.seconds:.2f} | {r.rate:,.0f} | {runs} | {memory} |")
    return lines


def ratios(results: list[Measured]) -> dict[str, float]:
    at_large = ("4 builder: baseline", "4 builder: large", "3 naive, extra", "2 practical limit: large")
    by = {r.path[0]: r for r in results if not r.path.startswith(at_large)}
    found = {
        "4:1": by["4"].seconds / by["1"].seconds,
        "4:2": by["4"].seconds / by["2"].seconds,
        "3:4": by["3"].seconds / by["4"].seconds,
    }
    large = [r for r in results if r.path.startswith(("2 practical limit: large", "4 builder: large"))]
    if len(large) == 2:
        practical, built = sorted(large, key=lambda r: r.path)
        found["large 4:2"] = built.seconds / practical.seconds
    return found


# -- per-test overhead and a suite of small tests -------------------------------------------------

PAIRED = """
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_b_dataset_only(i, demo_dataset):
    pass

@pytest.mark.parametrize("i", range({n}))
def test_a_isolated(i, demo_session, demo_election):
    pass
"""
#: Records each test's setup + call + teardown seconds, as pytest measured them.
DURATIONS = """
import json, os
SPENT = {}

def pytest_runtest_logreport(report):
    SPENT[report.nodeid] = SPENT.get(report.nodeid, 0.0) + report.duration

def pytest_sessionfinish(session):
    with open(os.environ["DEMOSEED_BENCH_DURATIONS"], "w") as out:
        json.dump(SPENT, out)
"""
SMALL_SUITE = """
import pytest, sqlalchemy as sa
from pytest_demoseed.election.models import Party

@pytest.mark.parametrize("i", range({n}))
def test_small(i, demo_session, demo_election):
    assert demo_session.scalar(sa.select(sa.func.count(Party.id))) > 0
    demo_session.add(Party(election_id=demo_election.id, name=f"P{{i}}", number=100 + i, color="#000000"))
    demo_session.flush()
"""


def run_suite(tmp: Path, backend: str, source: str, n: int) -> tuple[float, dict[str, float]]:
    """Whole ``pytest`` wall time of a generated suite, and each test's own seconds."""
    project = tmp / f"suite-{uuid.uuid4().hex[:6]}"
    project.mkdir()
    (project / "test_suite.py").write_text(source.format(n=n))
    (project / "conftest.py").write_text(DURATIONS)
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "--demo-progress",
        "none",
        "--demo-scenario",
        "baseline",
    ]
    if backend != "sqlite":
        args += ["--demo-db-url", f"{PG_SERVER}demobench_suite_{uuid.uuid4().hex[:6]}"]
    env = {**os.environ, "DEMOSEED_BENCH_DURATIONS": str(project / "durations.json")}
    began = time.perf_counter()
    done = subprocess.run(args, cwd=project, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-2000:])
    return wall, json.loads((project / "durations.json").read_text())


def per_test(tmp: Path, backend: str, n: int) -> tuple[float, float]:
    """Milliseconds the isolation fixtures add per test: the median test taking ``demo_session``
    + ``demo_election`` against the median taking only ``demo_dataset``, in one run (the first
    test of each kind, which waits for the build, is left out). Also the difference of means."""
    _, spent = run_suite(tmp, backend, PAIRED, n)
    with_them = [v for k, v in spent.items() if "test_a_isolated" in k][1:]
    without = [v for k, v in spent.items() if "test_b_dataset_only" in k][1:]
    median = (statistics.median(with_them) - statistics.median(without)) * 1000
    mean = (statistics.fmean(with_them) - statistics.fmean(without)) * 1000
    return median, mean


# -- the report -----------------------------------------------------------------------------------


def verdict(value: float, limit: float, smaller_is_better: bool = True) -> str:
    met = value <= limit if smaller_is_better else value >= limit
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=2_000)
    parser.add_argument("--tests", type=int, default=400, help="tests per run for the per-test overhead")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per path; the table shows the best and all"
    )
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="demoseed-bench-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    out = [
        "## Speed side by side (issue 5)",
        "",
        machine_line("python benchmarks/bench.py --write")
        + f" SQLite {sqlite3.sqlite_version}, PostgreSQL server {server_version()}, psycopg {version('psycopg')}, "
        f"SQLAlchemy {version('SQLAlchemy')}, Faker {version('Faker')}, factory_boy {version('factory_boy')}.",
        "",
    ]
    targets: list[str] = []
    overhead: list[str] = []
    for name in args.backends.split(","):
        backend = Backend(name, tmp)
        results = side_by_side(backend, args.rows, args.naive_rows, not args.skip_large, args.repeat)
        r = ratios(results)
        out += [
            f"### {name}",
            "",
            *table(results),
            "",
            f"Ratios at {args.rows:,} electors: builder/write limit (4:1) {r['4:1']:.2f}x, "
            f"builder/practical limit (4:2) {r['4:2']:.2f}x, naive/builder (3:4) {r['3:4']:.0f}x."
            + (f" Large: builder/its practical limit {r['large 4:2']:.2f}x." if "large 4:2" in r else ""),
            "",
        ]
        print("\n".join(out[-(len(results) + 6) :]), flush=True)
        targets.append(
            f"| {name}: builder >= 50x naive flush at {args.rows:,} | {r['3:4']:.0f}x | "
            f"{verdict(r['3:4'], 50, smaller_is_better=False)} |"
        )
        targets.append(
            f"| {name}: builder within 2x of the practical limit | {r['4:2']:.2f}x | {verdict(r['4:2'], 2)} |"
        )
        if "large 4:2" in r:
            targets.append(
                f"| {name}: large within 1.25x of its practical limit | {r['large 4:2']:.2f}x | "
                f"{verdict(r['large 4:2'], 1.25)} |"
            )
        by = {m.path: m for m in results}
        large_limit, large_mb = (15, 300) if name == "sqlite" else (20, 300)
        if "4 builder: large" in by:
            m = by["4 builder: large"]
            targets.append(
                f"| {name}: large ({m.rows:,} rows) < {large_limit} s | {m.seconds:.1f} s | "
                f"{verdict(m.seconds, large_limit)} |"
            )
            targets.append(
                f"| {name}: large peak RSS < {large_mb} MB | {m.peak_mb:.0f} MB | {verdict(m.peak_mb, large_mb)} |"
            )
        if name == "sqlite":
            m = by["4 builder: baseline"]
            targets.append(f"| sqlite: baseline < 0.3 s | {m.seconds:.3f} s | {verdict(m.seconds, 0.3)} |")
        ms, mean_ms = per_test(tmp, name, args.tests)
        limit = 1.0 if name == "sqlite" else 2.0
        targets.append(
            f"| {name}: demo_session + demo_election per test (medians of pytest durations) < {limit:g} ms | {ms:.2f} ms | {verdict(ms, limit)} |"
        )
        suite = min(run_suite(tmp, name, SMALL_SUITE, 200)[0] for _ in range(2))
        overhead.append(f"| {name} | {ms:.2f} | {mean_ms:.2f} | {suite:.2f} s |")
        print(targets[-1], overhead[-1], flush=True)
    out += [
        "### Per test and per suite",
        "",
        f"Per test: one `pytest` run of {args.tests} tests taking `demo_session` + `demo_election` and "
        f"{args.tests} taking only `demo_dataset` (same data); each test's setup + call + teardown seconds as "
        "pytest measures them; the difference of the medians (and of the means) is the round trip the "
        "isolation fixtures add: connect, begin, a SAVEPOINT session, load the election, roll back, close, "
        "with pytest's fixture machinery. The suite: 200 tests that each query and insert a row in "
        "`demo_session`, `baseline`, one process, whole `pytest` wall time (interpreter start and build "
        "included), best of 2.",
        "",
        "| backend | ms per test (medians) | ms per test (means) | suite of 200 small tests |",
        "| --- | ---: | ---: | ---: |",
        *overhead,
        "",
        "### Targets",
        "",
        "| target | measured | |",
        "| --- | ---: | --- |",
        *targets,
        "",
    ]
    text = "\n".join(out)
    print(text)
    if args.write:
        replace_section("bench", text)


def server_version() -> str:
    try:
        with psycopg.connect("host=127.0.0.1 port=5432 user=root dbname=postgres") as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
    except psycopg.Error:
        return "unreachable"


if __name__ == "__main__":
    main()
