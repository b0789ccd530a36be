"""Side-by-side speed run on SQLite, in one process: write limit, practical limit, naive
factory_boy, and the plugin's builder. Prints a table; ``--write`` refreshes RESULTS.md.

    python benchmarks/bench.py [--rows 100000] [--naive-rows 2000] [--skip-large] [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from sqlalchemy.orm import Session

from pytest_demoseed.build import build
from pytest_demoseed.election import models
from pytest_demoseed.election.factories import ElectionFactory, ElectorFactory
from pytest_demoseed.election.naming import national_id
from pytest_demoseed.engines import make_engine
from pytest_demoseed.spec import resolve_spec

DAY = dt.date(2026, 3, 1)


def fresh(tmp: Path, name: str) -> str:
    path = tmp / f"{name}.sqlite"
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    models.Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(models.Election.__table__.insert(), {"id": 1, "name": "E", "election_date": DAY})
        conn.execute(models.Committee.__table__.insert(), {"id": 1, "election_id": 1, "name": "C", "code": "C1"})
    engine.dispose()
    return str(path)


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds, and the process's peak RSS so far in MB (tracemalloc would slow it 4x)."""
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SQL = ("INSERT INTO electors (id, election_id, committee_id, full_name, gender, birth_date, national_id) "
       "VALUES (?, ?, ?, ?, ?, ?, ?)")


def write_limit(path: str, rows: list[tuple[object, ...]]) -> None:
    conn = sqlite3.connect(path)
    conn.executemany(SQL, rows)
    conn.commit()
    conn.close()


def practical(path: str, n: int) -> None:
    rng = random.Random(1)
    firsts, lasts = ["Ann", "Bob", "Cy", "Di"] * 50, ["Lee", "Kim", "Ray", "Fox"] * 250
    rows = [
        (i, 1, 1, f"{rng.choice(firsts)} {rng.choice(lasts)}", "F" if rng.random() < 0.5 else "M",
         (DAY - dt.timedelta(days=rng.randrange(6575, 32850))).isoformat(), national_id(i))
        for i in range(1, n + 1)
    ]
    write_limit(path, rows)


def naive(path: str, n: int) -> None:
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        election = session.get(models.Election, 1)
        committee = session.get(models.Committee, 1)
        for f in (ElectionFactory, ElectorFactory):
            f._meta.sqlalchemy_session = session
            f._meta.sqlalchemy_session_persistence = "flush"
        ElectorFactory.create_batch(n, election=election, committee=committee)
        session.commit()
    engine.dispose()


def builder(tmp: Path, scenario: str, overrides: dict[str, dict[str, object]]) -> None:
    path = tmp / f"build-{scenario}.sqlite"
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    models.Base.metadata.create_all(engine)
    build(engine, resolve_spec(scenario, 42, overrides))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=2_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()
    n = args.rows
    tmp = Path(tempfile.mkdtemp(prefix="demoseed-bench-"))
    pre = [(i, 1, 1, "Ann Lee", "F", "1980-01-01", national_id(i)) for i in range(1, n + 1)]
    results: list[tuple[str, int, float, float]] = []
    results.append(("1 raw executemany, precomputed", n, *timed(lambda: write_limit(fresh(tmp, "w"), pre))))
    results.append(("2 seeded pools + executemany", n, *timed(lambda: practical(fresh(tmp, "p"), n))))
    naive_s, naive_mb = timed(lambda: naive(fresh(tmp, "n"), args.naive_rows))
    results.append((f"3 factory_boy create_batch flush ({args.naive_rows} rows, extrapolated)", n,
                    naive_s * n / args.naive_rows, naive_mb))
    only_electors = {"electors": {"count": n}, "guarantees": {"enabled": False},
                     "attendance": {"enabled": False}, "members": {"count": 1}}
    results.append(("4 builder, electors phase", n, *timed(lambda: builder(tmp, "small", only_electors))))
    results.append(("4 builder, baseline", 3842, *timed(lambda: builder(tmp, "baseline", {}))))
    if not args.skip_large:
        results.append(("4 builder, large", 1_056_000, *timed(lambda: builder(tmp, "large", {}))))
    by = {name[0]: s for name, _, s, _ in results if "electors phase" in name or not name.startswith("4")}
    lines = ["| path | rows | seconds | rows/s | process peak RSS so far, MB |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, rows, seconds, peak in results:
        lines.append(f"| {name} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} | {peak:.0f} |")
    ratios = (f"ratios at {n:,} electors: builder/write-limit {by['4'] / by['1']:.2f}x, "
              f"builder/practical {by['4'] / by['2']:.2f}x, naive/builder {by['3'] / by['4']:.0f}x")
    table = "\n".join(lines) + "\n\n" + ratios + "\n"
    print(table)
    if args.write:
        header = (f"# Benchmark results\n\n{dt.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
                  f"SQLAlchemy {version('SQLAlchemy')}, Faker {version('Faker')}, "
                  f"factory_boy {version('factory_boy')}. Command: `python benchmarks/bench.py --write`.\n"
                  "SQLite only so far; the memory column is the process's peak RSS up to that row (monotonic). Naive "
                  "factory_boy is timed on fewer rows and extrapolated linearly.\n\n")
        (Path(__file__).parent / "RESULTS.md").write_text(header + table)


if __name__ == "__main__":
    main()
