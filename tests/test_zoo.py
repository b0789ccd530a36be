"""The schema zoo (``tests/zoo_app.py``) on every backend: what the builder writes is what the ORM
writes, its fingerprint is the one read back, and a test's factories add rows without collisions.

Each finding of the "real projects' models" issue has its check here: ``None`` through a
``TypeDecorator`` (``BlankText``), a converting type (``CompactDate`` given text), string, UUID
and composite keys, Python defaults (one reading the row), a server default, sequences past the
scenario's rows for string keys.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import zoo_app
from servers import Server, run_inprocess, server  # noqa: F401  (the fixture)
from sqlalchemy.orm import Session

from pytest_demoseed.build.builder import build
from pytest_demoseed.build.fingerprint import fingerprint_database
from pytest_demoseed.scenario.declare import Batch, Scenario
from pytest_demoseed.scenario.spec import resolve_spec
from pytest_demoseed.storage.engines import make_engine


def _database(where: Server, suffix: str) -> str:
    if where.is_server:
        where.create(f"{where.name}{suffix}", None)
    return where.url.replace(where.name, f"{where.name}{suffix}")


def _rows(conn: sa.Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    order = [column for column in table.primary_key.columns]
    return [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]


def _orm_write(engine: sa.Engine, scenario: Scenario, batches: list[Batch]) -> None:
    """Write the builder's batches again through the ORM: ``Model(**values)``, add, flush."""
    classes = {mapper.local_table.key: mapper.class_ for mapper in zoo_app.Base.registry.mappers}
    with Session(engine) as session:
        for batch in batches:
            values = [dict(zip(batch.columns, row, strict=True)) for row in batch.rows]
            model = classes.get(batch.table)
            if model is None:  # an association table: the ORM writes it with a Core insert too
                session.execute(sa.insert(scenario.metadata.tables[batch.table]), values)
            else:
                session.add_all([model(**row) for row in values])
            session.flush()
        session.commit()


def test_the_builder_writes_what_the_orm_writes_and_its_fingerprint_is_read_back(server: Server) -> None:  # noqa: F811
    scenarios = [zoo_app.ZOO] + ([zoo_app.ZOO_SCHEMA] if server.kind == "postgresql" else [])
    built_engine = make_engine(_database(server, ""))
    orm_engine = make_engine(_database(server, "_orm"))
    try:
        for scenario in scenarios:
            for engine in (built_engine, orm_engine):
                scenario.metadata.create_all(engine)
            batches: list[Batch] = []
            dataset = build(built_engine, resolve_spec(scenario, seed=3), on_batch=batches.append)
            _orm_write(orm_engine, scenario, batches)
            with built_engine.connect() as built, orm_engine.connect() as by_orm:
                read_back = fingerprint_database(built, scenario.metadata).hexdigest()
                assert dataset.fingerprint == read_back, f"{scenario.name}: builder != read back"
                for table in scenario.metadata.sorted_tables:
                    ours, theirs = _rows(built, table), _rows(by_orm, table)
                    assert len(ours) == dataset.counts[table.key] > 0
                    for mine, orms in zip(ours, theirs, strict=True):
                        differ = [c.key for c, a, b in zip(table.columns, mine, orms, strict=True) if a != b]
                        assert not differ, f"{table.key} {mine[0]!r}: {differ} differ from the ORM's row"
                assert fingerprint_database(by_orm, scenario.metadata).hexdigest() == read_back
        with built_engine.connect() as conn:
            account = conn.execute(
                sa.select(zoo_app.Account.__table__).where(sa.column("title") == "Dr")
            ).first()
        assert account is not None and account.born.isoformat() == "1999-12-31"  # text in, date out
        assert account.slug == account.code.lower() and account.plan == "free" and account.region == "eu"
        assert account.settings is None  # JSON null
    finally:
        built_engine.dispose()
        orm_engine.dispose()


INNER_TESTS = """
import sqlalchemy as sa
import zoo_app
from pytest_demoseed import database_fingerprint


def test_fingerprint_read_back_is_the_builders(demo_dataset, demo_engine):
    assert database_fingerprint(demo_engine, zoo_app.ZOO) == demo_dataset.fingerprint
    assert demo_dataset.counts["accounts"] == 42


def test_factories_add_rows_past_the_scenarios(demo_session, demo_bind_factories):
    demo_bind_factories(zoo_app)
    added = zoo_app.AccountFactory.create_batch(3, title=None)
    assert [a.code for a in added] == ["AC00042", "AC00043", "AC00044"]
    club = zoo_app.ClubFactory()
    added[0].clubs.append(club)
    sessions = zoo_app.SessionFactory.create_batch(2, account_code=added[1].code)
    root = demo_session.get(zoo_app.Message, 1)
    reply = zoo_app.MessageFactory(reply_to=root, account_code=added[2].code)
    demo_session.flush()
    demo_session.expire_all()
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(zoo_app.Account)) == 45
    assert demo_session.get(zoo_app.Account, "AC00042").title == ""
    assert club.id == 5 and reply.id == 61 and len({s.id for s in sessions}) == 2
    assert [a.code for a in demo_session.get(zoo_app.Club, 5).accounts] == ["AC00042"]


def test_the_next_test_sees_the_scenario_alone(demo_session):
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(zoo_app.Account)) == 42
"""

SCHEMA_TEST = """

@pytest.mark.demo_scenario("zoo-schema")
def test_a_table_in_its_own_schema(demo_session, demo_dataset, demo_connection):
    assert database_fingerprint(demo_connection.engine, zoo_app.ZOO_SCHEMA) == demo_dataset.fingerprint
    demo_session.execute(sa.insert(zoo_app.entries), {"what": "added"})
    assert demo_session.scalar(sa.select(sa.func.max(zoo_app.entries.c.id))) == 26
"""


def test_a_users_suite_over_the_zoo(pytester: pytest.Pytester, server: Server) -> None:  # noqa: F811
    """(c) on each backend: fingerprints agree, factories add rows past the scenario
    (string keys from a Sequence, an integer key, a UUID key, a reply to a scenario's message, a
    many-to-many link), and the next test sees the scenario alone."""
    shutil.copy(Path(zoo_app.__file__), pytester.path / "zoo_app.py")
    schema = server.kind == "postgresql"
    pytester.makeini("[pytest]\npythonpath = .\ndemo_scenario = zoo\n")
    pytester.makeconftest(
        "from pytest_demoseed import register\nimport zoo_app\nregister(zoo_app.ZOO)\n"
        + ("register(zoo_app.ZOO_SCHEMA)\n" if schema else "")
    )
    pytester.makepyfile(test_zoo_suite="import pytest\n" + INNER_TESTS + (SCHEMA_TEST if schema else ""))
    result = run_inprocess(pytester, server, "-p", "no:cacheprovider")  # xdist is tested elsewhere
    result.assert_outcomes(passed=4 if schema else 3)
