"""Schemas from Alembic migrations under ``pytest -n 2``: per worker, once per run, or reused.

    python benchmarks/bench_alembic.py [--backends sqlite,postgresql,mariadb] [--migrations 60] [--write]

A generated project: 60 migrations (the first makes the built-in election schema the ``baseline``
scenario writes, one is a data migration inserting 500 reference rows, the others each add a
table with an index) and 12 small tests on ``baseline``. Three ways, each timed from the start
of ``pytest -n 2`` to its first test and to its end, with the number of times Alembic ran:

(a) every worker migrates and builds its own database (``DEMOSEED_BUILD_PER_WORKER=1``: what
    pytest-django users pay per xdist worker);
(b) this plugin without reuse: migrated once into the snapshot, cloned into each worker;
(c) ``--demo-reuse``, the second run: the kept snapshot is cloned, no migration runs.

Prints a Markdown section; ``--write`` puts it in benchmarks/RESULTS.md. Every database it makes
is dropped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from results import machine_line, replace_section

URLS = {
    "sqlite": "sqlite:///{tmp}/bench.sqlite",
    "postgresql": "postgresql+psycopg://root@127.0.0.1:5432/bench_{tag}",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/bench_{tag}",
}
INI = """[alembic]
script_location = %(here)s/migrations
prepend_sys_path = %(here)s
path_separator = os
sqlalchemy.url = sqlite:///unused.db
"""
ENV = """
import os
from alembic import context

with open(os.environ["BENCH_MIGRATION_LOG"], "a") as log:
    log.write(f"{os.getpid()}\\n")
context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
"""
HEAD = """
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None
"""
FIRST = """
def upgrade():
    from pytest_demoseed.election.models import Base

    Base.metadata.create_all(op.get_bind())
"""
TABLE = """
def upgrade():
    op.create_table(
        "extra_{n:03d}",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("note", sa.String(200)),
    )
    op.create_index("ix_extra_{n:03d}_code", "extra_{n:03d}", ["code"])
"""
DATA = """
def upgrade():
    table = sa.table("extra_{prev:03d}", sa.column("id"), sa.column("code"), sa.column("amount"))
    op.bulk_insert(table, [{{"id": i, "code": f"REF{{i:04d}}", "amount": i}} for i in range(1, 501)])
"""
SUITE = """
import time, os, pathlib
import pytest, sqlalchemy as sa
from pytest_demoseed.election.models import Elector

@pytest.mark.parametrize("i", range(12))
def test_electors(demo_session, demo_dataset, i):
    out = pathlib.Path(os.environ["BENCH_FIRST_TEST"])
    with out.open("a") as f:
        f.write(f"{time.time()}\\n")
    assert demo_session.scalar(sa.select(sa.func.count(Elector.id))) == demo_dataset.counts["electors"]
"""


def make_project(root: Path, count: int) -> Path:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(INI)
    (root / "migrations" / "env.py").write_text(ENV)
    (root / "test_suite.py").write_text(SUITE)
    data_at = count // 2
    for n in range(1, count + 1):
        rev, down = f"r{n:03d}", (f"r{n - 1:03d}" if n > 1 else None)
        body = FIRST if n == 1 else DATA.format(prev=n - 1) if n == data_at else TABLE.format(n=n)
        (versions / f"{rev}.py").write_text(HEAD.format(rev=rev, down=down) + body)
    return root


def run_suite(project: Path, url: str, *, per_worker: bool, reuse: Path | None) -> dict[str, float]:
    """One ``pytest -n 2`` run: seconds to its first test, to its end, and Alembic runs."""
    log, first = project / f"migrations-{uuid.uuid4().hex[:6]}.log", project / f"first-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "DEMOSEED_BUILD_PER_WORKER": "1" if per_worker else "0",
        "BENCH_MIGRATION_LOG": str(log),
        "BENCH_FIRST_TEST": str(first),
    }
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2"]
    args += [
        "--demo-db-url",
        url,
        "--demo-scenario",
        "baseline",
        "--demo-progress",
        "none",
        "--demo-alembic",
        ".",
    ]
    if reuse is not None:
        args += ["--demo-reuse", f"--demo-cache-dir={reuse}"]
    started = time.time()
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    wall = time.time() - started
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-2000:])
    runs = len(log.read_text().splitlines()) if log.exists() else 0
    return {
        "first": min(float(x) for x in first.read_text().split()) - started,
        "wall": wall,
        "migrations": runs,
    }


def migrate_alone(project: Path, url: str) -> float:
    """Seconds one ``alembic upgrade head`` of the project takes on a fresh database: what each
    worker pays in (a), the run once in (b), nothing in (c)."""
    from pytest_demoseed.storage.create import create_database_if_missing
    from pytest_demoseed.storage.engines import make_engine
    from pytest_demoseed.storage.migrations import load_migrations, run_migrations

    os.environ.setdefault("BENCH_MIGRATION_LOG", os.devnull)
    created = create_database_if_missing(url)
    engine = make_engine(url)
    try:
        migrations = load_migrations(project)
        started = time.perf_counter()
        with engine.connect() as conn:
            run_migrations(conn, migrations)
            conn.commit()
        return time.perf_counter() - started
    finally:
        engine.dispose()
        if created is not None:
            created.drop()


def drop_kept(url: str, cache: Path) -> None:
    """The ``--demo-reuse`` snapshots (c) kept on a server."""
    from pytest_demoseed.storage.backends import backend_for

    backend = backend_for(url, reuse=True)
    for sidecar in cache.glob("*.json"):
        backend.drop_snapshot(sidecar.stem, cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--migrations", type=int, default=60)
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    options = parser.parse_args()
    lines = [
        "## Schemas from Alembic migrations under `pytest -n 2` (issue 12)",
        "",
        f"A generated project of {options.migrations} migrations (the first makes the election schema, one "
        "inserts 500 reference rows, the others add a table and an index each), the `baseline` scenario and "
        "12 small tests, `pytest -n 2`: seconds from the start to the first test and to the end, and how many "
        "times Alembic ran. (a) every worker migrates and builds its own database "
        "(`DEMOSEED_BUILD_PER_WORKER=1`, as pytest-django users pay); (b) migrated once into the snapshot, "
        "cloned into each worker; (c) `--demo-reuse`, the second run.",
        "",
        "| backend | one `upgrade head` alone | (a) per worker: first test / wall / Alembic runs | (b) once + clone |"
        " (c) reused, 2nd run |",
        "| --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        project = make_project(tmp / "project", options.migrations)
        for backend in options.backends.split(","):
            (tmp / f"{backend}-alone").mkdir()
            alone = migrate_alone(
                project, URLS[backend].format(tmp=tmp / f"{backend}-alone", tag=uuid.uuid4().hex[:6])
            )
            cells = [f"{alone:.2f}s"]
            cache = tmp / f"cache-{backend}"
            for way in ("a", "b", "c"):
                url = URLS[backend].format(tmp=tmp / f"{backend}-{way}", tag=uuid.uuid4().hex[:6])
                (tmp / f"{backend}-{way}").mkdir()
                try:
                    if way == "c":  # the first run keeps the snapshot; the second is measured
                        run_suite(project, url, per_worker=False, reuse=cache)
                    found = run_suite(
                        project, url, per_worker=way == "a", reuse=cache if way == "c" else None
                    )
                finally:
                    if way == "c" and backend != "sqlite":
                        drop_kept(url, cache)
                cells.append(f"{found['first']:.1f}s / {found['wall']:.1f}s / {found['migrations']:.0f}")
            row = f"| {backend} | " + " | ".join(cells) + " |"
            print(row, flush=True)
            lines.append(row)
    lines.insert(2, machine_line("python benchmarks/bench_alembic.py --write") + "\n")
    text = "\n".join(lines)
    print(text)
    if options.write:
        replace_section("alembic", text)


if __name__ == "__main__":
    main()
