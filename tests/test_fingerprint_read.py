"""Reading fingerprints back: the caller's connection is left as it was (issue 11), on every
backend; a seed added to a database fingerprints the rows it wrote, hashed as written or read back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from servers import Server, server  # noqa: F401  (the fixture)

from pytest_demoseed import Batch, PhaseContext, Scenario, database_fingerprint, get_scenario, phase, seed
from pytest_demoseed.build.fingerprint import fingerprint_database
from pytest_demoseed.storage.engines import make_engine


def test_fingerprint_database_leaves_a_tests_connection_usable(server: Server) -> None:  # noqa: F811
    if server.is_server:
        server.create(server.name, None)
    report = seed(server.url, "small", create_schema=True)
    engine = make_engine(server.url)
    try:
        with engine.connect() as conn:
            before = dict(conn.get_execution_options())
            outer = conn.begin()
            savepoint = conn.begin_nested()  # what demo_session's commit() releases
            found = fingerprint_database(conn, get_scenario("small").metadata).hexdigest()
            assert dict(conn.get_execution_options()) == before
            savepoint.rollback()  # failed on PostgreSQL when yield_per was set on the connection
            nested = conn.begin_nested()
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
            nested.rollback()
            outer.rollback()
    finally:
        engine.dispose()
    assert found == report.fingerprint


class _Shouted(sa.TypeDecorator[str]):
    """Stores its text upper-cased: the builder cannot hash what it wrote, so it reads it back."""

    impl = sa.String(30)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else value.upper()


def test_an_appended_seed_fingerprints_the_rows_it_wrote(tmp_path: Path) -> None:
    """``append=True`` adds a second copy: its report's fingerprint is that of its own rows, both
    for a table hashed as written (``tags``) and for one read back (``notes``), the same as the
    fingerprint of the database with the first seed's rows deleted."""
    metadata = sa.MetaData()
    notes = sa.Table(
        "notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", _Shouted())
    )
    tags = sa.Table(
        "tags", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(30))
    )

    @phase("notes", tables=("notes", "tags"))
    def make(ctx: PhaseContext) -> Any:
        ids = ctx.allocate("notes", 30)
        yield Batch("notes", ("id", "text"), [(i, ctx.faker.word()) for i in ids])
        keys = ctx.allocate("tags", 10)
        yield Batch.from_columns("tags", ("id", "name"), [keys, [ctx.faker.word() for _ in keys]])

    scenario = Scenario(name="notes", description="notes and tags", metadata=metadata, phases=(make,))
    url = f"sqlite:///{tmp_path / 'both.db'}"
    first = seed(url, scenario, create_schema=True)
    second = seed(url, scenario, seed=5, append=True)
    assert second.counts == first.counts == {"notes": 30, "tags": 10}
    shutil.copyfile(tmp_path / "both.db", tmp_path / "second.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'second.db'}")
    try:
        with engine.begin() as conn:
            for table in (notes, tags):
                conn.execute(table.delete().where(table.c.id <= first.counts[table.key]))
    finally:
        engine.dispose()
    assert second.fingerprint == database_fingerprint(f"sqlite:///{tmp_path / 'second.db'}", scenario)
    assert second.fingerprint != database_fingerprint(url, scenario) != first.fingerprint
