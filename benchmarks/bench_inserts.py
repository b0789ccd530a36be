"""The builder before and after commit 9b588d2 (rows written as the ORM would write them).

    python benchmarks/bench_inserts.py [--before 9b588d2~1] [--after 9b588d2,.] [--rows 100000]
                                       [--repeat 3] [--backends sqlite,postgresql] [--write]

1. Before/after: ``seed(url, "small", seed=42, settings={"electors": {"count": ROWS}},
   create_schema=True)`` into a fresh SQLite file and a fresh PostgreSQL database with the package
   of ``--before`` and of each ``--after`` (commits in temporary ``git worktree``s, removed at the
   end; ``.`` is this checkout's working tree, copied once at the start so that edits made during
   the run cannot reach it), each on ``PYTHONPATH`` in a subprocess of its own that checks which
   package it imported. All must give one fingerprint (the election tables have plain types only).
2. With the last ``--after`` only, the price of a converting type: ``ROWS`` rows of a one-phase
   scenario into a table whose date column is a ``TypeDecorator`` (stored as ``YYYYMMDD`` text; its
   values go through the decorator, and the table is fingerprinted by reading it back inside the
   build), against the same table with a plain ``sa.Date`` column.

Each run is one subprocess that times the ``seed()`` call alone (``perf_counter``, and the
client's CPU time with ``process_time``), after one untimed warm-up run of each case (bytecode
compiled, caches warm). Runs are interleaved, the order alternating per round; best of
``--repeat``. PostgreSQL databases are made and dropped around each run (psycopg, autocommit),
not timed; the server comes from ``DEMOSEED_TEST_PG`` (as in tests/servers.py). Prints a Markdown
section; ``--write`` puts it in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from results import machine_line, replace_section

HERE = Path(__file__).resolve()
MAIN = HERE.parent.parent
PG_SERVER = os.environ.get("DEMOSEED_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432")
KINDS = ("plain", "typed")  # part 2: sa.Date, the YYYYMMDD TypeDecorator


# -- the child: one timed seed() ----------------------------------------------------------------


def custom_scenario(kind: str) -> Any:
    """One phase writing ``events`` (id, day, label); ``day`` a plain date or a YYYYMMDD text."""
    import sqlalchemy as sa

    from pytest_demoseed import Batch, Scenario, phase
    from pytest_demoseed.settings_kinds import integer

    class YearMonthDay(sa.TypeDecorator[dt.date]):
        """A date stored as ``YYYYMMDD`` text."""

        impl = sa.String(8)
        cache_ok = True

        def process_bind_param(self, value: dt.date | None, dialect: sa.Dialect) -> str | None:
            return None if value is None else value.strftime("%Y%m%d")

        def process_result_value(self, value: str | None, dialect: sa.Dialect) -> dt.date | None:
            return None if value is None else dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))

    metadata = sa.MetaData()
    sa.Table(
        "events",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", YearMonthDay() if kind == "typed" else sa.Date(), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
    )
    clock = dt.datetime(2026, 3, 1)

    @phase("events", tables=("events",), settings={"count": integer(1000, "events", minimum=1)})
    def events(ctx: Any) -> Iterator[Batch]:
        ids = ctx.allocate("events", ctx["count"])
        first = clock.date() - dt.timedelta(days=3650)
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            days = [first + dt.timedelta(days=ctx.rng.randrange(3650)) for _ in chunk]
            yield Batch(
                "events",
                ("id", "day", "label"),
                [(i, d, f"event {i}") for i, d in zip(chunk, days, strict=True)],
            )

    return Scenario(name=f"events-{kind}", phases=(events,), metadata=metadata, clock=clock)


def child(spec: dict[str, Any]) -> None:
    """Run one ``seed()`` as ``spec`` says; print what it took as one JSON line."""
    import pytest_demoseed

    imported = Path(pytest_demoseed.__file__).resolve()
    if not imported.is_relative_to(Path(spec["root"]).resolve()):
        raise SystemExit(f"imported {imported}, expected the package under {spec['root']}")
    read_back = {"seconds": 0.0, "tables": []}
    try:  # only after 9b588d2: time the read-back fingerprinting, note what it read
        from pytest_demoseed.build.fingerprint import Fingerprint

        original = Fingerprint.read_back

        def timed_read_back(self: Any, conn: Any, **options: Any) -> None:
            read_back["tables"] = sorted(self.read_back_tables)
            started = time.perf_counter()
            original(self, conn, **options)
            read_back["seconds"] += time.perf_counter() - started

        Fingerprint.read_back = timed_read_back  # type: ignore[method-assign]
    except (ImportError, AttributeError):
        read_back = {"seconds": None, "tables": None}

    if spec["kind"] == "election":
        scenario: Any = "small"
        settings = {"electors": {"count": spec["rows"]}}
    else:
        scenario = custom_scenario(spec["kind"])
        settings = {"events": {"count": spec["rows"]}}
    started, cpu = time.perf_counter(), time.process_time()
    report = pytest_demoseed.seed(spec["url"], scenario, seed=42, settings=settings, create_schema=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = {
        "package": str(imported.parent),
        "seconds": seconds,
        "cpu": cpu,
        "rows": sum(report.counts.values()),
        "phase_seconds": dict(report.phase_seconds),
        "fingerprint": report.fingerprint,
        "read_back": read_back,
    }
    print(json.dumps(found))


# -- the parent: databases, subprocesses, the table ---------------------------------------------


def pg_admin() -> Any:
    import psycopg
    import sqlalchemy as sa

    server = sa.make_url(PG_SERVER).set(drivername="postgresql", database="postgres")
    return psycopg.connect(server.render_as_string(hide_password=False), autocommit=True)


@contextmanager
def fresh_database(backend: str, scratch: Path) -> Iterator[str]:
    """A new empty database for one run, dropped after it."""
    name = f"demoseed_bench_ins_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        path = scratch / f"{name}.sqlite"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in scratch.glob(f"{name}.sqlite*"):
                leftover.unlink()
        return
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER.rstrip('/')}/{name}"
    finally:
        with pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_child(root: Path, url: str, kind: str, rows: int) -> dict[str, Any]:
    spec = {"root": str(root), "url": url, "kind": kind, "rows": rows}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMOSEED_")}
    env["PYTHONPATH"] = str(root)
    done = subprocess.run(
        [sys.executable, str(HERE), "--child", json.dumps(spec)],
        cwd=tempfile.gettempdir(),
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {spec} failed:\n{done.stdout}\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(found["package"]).is_relative_to(root):
        raise SystemExit(f"child {spec} imported {found['package']}")
    return found


def timed(backend: str, scratch: Path, root: Path, kind: str, rows: int) -> dict[str, Any]:
    with fresh_database(backend, scratch) as url:
        found = run_child(root, url, kind, rows)
    print(
        f"  {backend:10} {kind:8} {root}: {found['seconds']:.3f} s, cpu {found['cpu']:.3f} s "
        f"({found['rows']:,} rows, read back {found['read_back']['tables']}) {found['phase_seconds']}",
        file=sys.stderr,
    )
    return found


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(MAIN), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def package_at(ref: str | None, scratch: Path) -> Iterator[tuple[Path, str]]:
    """A directory to put on ``PYTHONPATH`` and what it holds: the package as of ``ref`` in a
    temporary ``git worktree`` (removed afterwards), or with ``ref`` None a copy of this checkout's
    working tree, taken once so that edits made while the benchmark runs do not reach it."""
    if ref is None:
        copy = scratch / "working-tree"
        shutil.copytree(
            MAIN / "pytest_demoseed", copy / "pytest_demoseed", ignore=shutil.ignore_patterns("__pycache__")
        )
        dirty = git("status", "--porcelain", "--", "pytest_demoseed").splitlines()
        state = f"{len(dirty)} files changed" if dirty else "clean"
        yield (
            copy,
            f"the working tree ({git('rev-parse', '--short', 'HEAD')} + {state} under pytest_demoseed/)",
        )
        return
    path = Path(tempfile.gettempdir()) / f"bench-inserts-{uuid.uuid4().hex[:8]}"
    git("worktree", "add", "--detach", str(path), ref)
    try:
        yield path, f"`{ref}` ({git('rev-parse', '--short', ref)}, a temporary worktree)"
    finally:
        git("worktree", "remove", "--force", str(path))


def best(runs: list[dict[str, Any]], measure: str = "seconds") -> dict[str, Any]:
    return min(runs, key=lambda r: r[measure])


def every(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['seconds']:.2f}" for r in runs)


def interleaved(
    cases: list[tuple[Path, str]], backends: list[str], rows: int, repeat: int, scratch: Path
) -> dict[tuple[str, Path, str], list[dict[str, Any]]]:
    """``repeat`` rounds of every (package, kind) case on every backend, the order of the cases
    alternating per round, after one untimed warm-up of each case."""
    for root, kind in cases:
        timed("sqlite", scratch, root, kind, 1000)
    runs: dict[tuple[str, Path, str], list[dict[str, Any]]] = {(b, *c): [] for b in backends for c in cases}
    for round_ in range(repeat):
        for backend in backends:
            for root, kind in cases if round_ % 2 == 0 else cases[::-1]:
                runs[backend, root, kind].append(timed(backend, scratch, root, kind, rows))
    return runs


def before_after(
    backends: list[str], packages: list[Path], rows: int, repeat: int, scratch: Path
) -> tuple[list[str], list[str]]:
    """Part 1: rows of the table (the first package is "before"), and notes."""
    runs = interleaved([(root, "election") for root in packages], backends, rows, repeat, scratch)
    lines, notes, fingerprints = [], [], set()
    for backend in backends:
        old = runs[backend, packages[0], "election"]
        for number, root in enumerate(packages):
            new = runs[backend, root, "election"]
            prints = {r["fingerprint"] for r in old + new}
            fingerprints |= prints
            same = "yes" if len(prints) == 1 else f"**no**: {len(prints)} different"
            read = {t for r in new for t in r["read_back"]["tables"] or ()}
            if read:
                notes.append(
                    f"**{backend}, package {number}: read back {', '.join(sorted(read))}** (expected none)."
                )
            b, a = best(old), best(new)
            wall = "" if number == 0 else f"**{a['seconds'] / b['seconds']:.2f}**"
            cpu = "" if number == 0 else f"{best(new, 'cpu')['cpu'] / best(old, 'cpu')['cpu']:.2f}"
            lines.append(
                f"| {backend} | {number} | {a['rows']:,} | {a['seconds']:.2f} s | {wall} | "
                f"{best(new, 'cpu')['cpu']:.2f} s | {cpu} | {every(new)} | {same} |"
            )
    if len(fingerprints) == 1:
        notes.append(
            f"Every run of every package on every backend gave the same fingerprint, `{fingerprints.pop()}`."
        )
    else:
        notes.append(f"**Fingerprints differ across backends**: {', '.join(sorted(fingerprints))}.")
    return lines, notes


def converting_type(backends: list[str], after: Path, rows: int, repeat: int, scratch: Path) -> list[str]:
    """Part 2: rows of the table."""
    runs = interleaved([(after, kind) for kind in KINDS], backends, rows, repeat, scratch)
    lines = []
    for backend in backends:
        plain, typed = runs[backend, after, "plain"], runs[backend, after, "typed"]
        if any(r["read_back"]["tables"] != ["events"] for r in typed) or any(
            r["read_back"]["tables"] for r in plain
        ):
            raise SystemExit(f"{backend}: expected the typed table, and only it, to be read back")
        p, t = best(plain), best(typed)
        cpu = best(typed, "cpu")["cpu"] / best(plain, "cpu")["cpu"]
        lines.append(
            f"| {backend} | {t['rows']:,} | {p['seconds']:.2f} s | {t['seconds']:.2f} s | "
            f"**{t['seconds'] / p['seconds']:.2f}** | {cpu:.2f} | {t['read_back']['seconds']:.2f} s | "
            f"{every(plain)} | {every(typed)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before", default="9b588d2~1", help="the commit to compare with (default 9b588d2~1)"
    )
    parser.add_argument(
        "--after",
        default="9b588d2,.",
        help="commits to compare, comma-separated, '.' for this checkout's working tree (copied once "
        "at the start); the last one is also measured in part 2 (default 9b588d2,.)",
    )
    parser.add_argument("--rows", type=int, default=100_000, help="electors, and events (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="default sqlite,postgresql")
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(json.loads(options.child))
        return
    backends = options.backends.split(",")
    refs = [options.before, *(None if ref == "." else ref for ref in options.after.split(","))]
    with tempfile.TemporaryDirectory() as name, ExitStack() as stack:
        scratch = Path(name)
        packages = [stack.enter_context(package_at(ref, scratch)) for ref in refs]
        roots = [root for root, _ in packages]
        part1, notes = before_after(backends, roots, options.rows, options.repeat, scratch)
        part2 = converting_type(backends, roots[-1], options.rows, options.repeat, scratch)
    command = " ".join(["python benchmarks/bench_inserts.py", *sys.argv[1:]])
    lines = [
        "## Builder inserts before and after 9b588d2 (rows as the ORM writes them, read-back fingerprints)",
        "",
        machine_line(command),
        "",
        "Wall time of the `seed()` call alone (`perf_counter` around it, in-process), one subprocess "
        "per run on a fresh database, with the package on `PYTHONPATH` (each subprocess checks which "
        "one it imported); one untimed warm-up of each case, then runs interleaved (the order "
        f"alternating per round), best of {options.repeat}, every run listed. CPU is the client "
        "process's CPU time in the call (`process_time`, best run; no server time): on a busy "
        "machine it is the steadier check of the wall-time ratio, and this change is client work.",
        "",
        f'`seed(url, "small", seed=42, settings={{"electors": {{"count": {options.rows:_}}}}}, '
        "create_schema=True)`: the rows of every table (attendance adds half as many as electors). "
        "Packages: "
        + "; ".join(f"{number} = {what}" for number, (_, what) in enumerate(packages))
        + ". Ratios are to package 0.",
        "",
        "| backend | package | rows | wall (best) | wall / 0 | CPU (best) | CPU / 0 | every run, s "
        "| same fingerprint as 0 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *part1,
        "",
        *notes,
        "",
        f"Package {len(packages) - 1} only, the price of a converting type: {options.rows:,} rows "
        "`(id, day, label)` from a one-phase scenario (batches of 10,000), `day` a plain `sa.Date` or "
        "a `TypeDecorator` storing `YYYYMMDD` text (bound per value, and the table fingerprinted by "
        'reading it back inside the build). "read-back" is the time spent in '
        "`Fingerprint.read_back` in the best typed run.",
        "",
        "| backend | rows | plain `sa.Date` | `TypeDecorator` | typed/plain | CPU typed/plain "
        "| of which read-back | every run plain, s | every run typed, s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *part2,
    ]
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("inserts", text)


if __name__ == "__main__":
    main()
