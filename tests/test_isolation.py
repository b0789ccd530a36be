# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""Per-test isolation: whatever a test writes, commits, nests or fails with, the next one sees none of it."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import Inner
from servers import Server, run, server  # noqa: F401  (server: a fixture)

CHECKS = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Attendance, Election, Elector, Guarantee, Party

def assert_pristine(demo_session, demo_engine, demo_election=None):
    # through the test's own session, and through a fresh connection to the database file
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Party)) == 2
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Elector)) == 50
    assert demo_session.scalar(sa.select(Party).where(Party.name == "Intruder")) is None
    with demo_engine.connect() as conn:
        assert conn.scalar(sa.text("select count(*) from parties")) == 2
        assert conn.scalar(sa.text("select count(*) from electors")) == 50
        assert conn.scalar(sa.text("select count(*) from attendances")) == 25
        assert conn.scalar(sa.text("select count(*) from guarantees")) == 15
        name = conn.scalar(sa.text("select name from elections"))
    if demo_election is not None:  # the root, an object of the test's session, as built
        assert sa.inspect(demo_election).persistent and demo_election.name == name != "Changed"
        assert demo_session.get(Election, demo_election.id) is demo_election
        assert sorted(p.name for p in demo_election.parties) == sorted(
            demo_session.scalars(sa.select(Party.name))
        )
"""

WRITERS = {
    "session_commit": """
def test_write(demo_session, demo_election):
    demo_session.add(Party(election=demo_election, name="Intruder", number=99, color="#000001"))
    demo_session.commit()
    demo_session.execute(sa.delete(Attendance))
    demo_session.execute(sa.delete(Guarantee))
    demo_session.execute(sa.delete(Elector).where(Elector.id <= 10))
    demo_session.commit()
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Party)) == 3
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Elector)) == 40
""",
    "factory_commit": """
def test_write(demo_session, demo_factories, demo_election):
    demo_factories.Party.create(election=demo_election, name="Intruder")
    demo_factories.Elector.create(election=demo_election, committee=demo_election.committees[0])
    demo_session.commit()
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Party)) == 3
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Elector)) == 51
""",
    "nested_rollback": """
def test_write(demo_session, demo_election):
    demo_session.add(Party(election=demo_election, name="Intruder", number=98, color="#000002"))
    demo_session.flush()
    nested = demo_session.begin_nested()
    demo_session.add(Party(election=demo_election, name="Inner", number=97, color="#000003"))
    demo_session.flush()
    nested.rollback()
    # the nested rollback undid only the inner write
    names = set(demo_session.scalars(sa.select(Party.name)))
    assert "Intruder" in names and "Inner" not in names
    demo_session.rollback()
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Party)) == 2
    demo_session.add(Party(election=demo_election, name="Intruder", number=96, color="#000004"))
    demo_session.commit()
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Party)) == 3
""",
    "raw_sql_connection": """
def test_write(demo_connection, demo_dataset):
    demo_connection.execute(sa.text(
        "insert into parties (id, election_id, name, number, color) "
        "values (1000, :e, 'Intruder', 50, '#000005')"
    ), {"e": demo_dataset.root_id})
    demo_connection.execute(sa.text("delete from attendances"))
    demo_connection.execute(sa.text("delete from guarantees"))
    demo_connection.execute(sa.text("delete from electors where id > 5"))
    assert demo_connection.scalar(sa.text("select count(*) from parties")) == 3
    assert demo_connection.scalar(sa.text("select count(*) from electors")) == 5
""",
    "root_changed": """
def test_write(demo_session, demo_election):
    demo_election.name = "Changed"
    demo_election.parties[0].name = "Intruder"
    demo_session.commit()
    demo_session.expire_all()
    assert demo_session.scalar(sa.select(Election.name)) == demo_election.name == "Changed"
    assert demo_session.scalar(sa.select(sa.func.count()).where(Party.name == "Intruder")) == 1
""",
    "failing_test": """
def test_write(demo_session, demo_election):
    demo_session.add(Party(election=demo_election, name="Intruder", number=95, color="#000006"))
    demo_session.commit()
    raise AssertionError("this test fails after writing")
""",
}


ISOLATION = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

def count(conn):
    return conn.scalar(sa.select(sa.func.count(Party.id)))

def test_1_commit_inside_test(demo_session, demo_dataset):
    election_id = demo_session.scalar(sa.select(Party.election_id).limit(1))
    demo_session.add(Party(name="X", election_id=election_id, number=98, color="#000000"))
    demo_session.commit()
    assert count(demo_session) == demo_dataset.counts["parties"] + 1

def test_2_failed_statement_left_behind(demo_connection):
    with pytest.raises(sa.exc.DBAPIError):
        demo_connection.execute(sa.text("SELECT * FROM no_such_table"))
    if demo_connection.dialect.name == "postgresql":  # the test ends in an aborted transaction
        with pytest.raises(sa.exc.DBAPIError, match="current transaction is aborted"):
            demo_connection.execute(sa.text("SELECT 1"))

def test_3_failed_statement_in_session(demo_session):
    demo_session.begin_nested()
    with pytest.raises(sa.exc.DBAPIError):
        demo_session.execute(sa.text("SELECT 1/0 FROM no_such_table"))
    if demo_session.bind.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="current transaction is aborted"):
            demo_session.connection().exec_driver_sql("SELECT 1")

def test_4_next_test_sees_the_scenario(demo_session, demo_dataset):
    assert count(demo_session) == demo_dataset.counts["parties"]

def test_5_nested_rollback_and_commit(demo_session, demo_dataset):
    election_id = demo_session.scalar(sa.select(Party.election_id).limit(1))
    with demo_session.begin_nested() as nested:
        demo_session.add(Party(name="Y", election_id=election_id, number=97, color="#000001"))
        demo_session.flush()
        nested.rollback()
    assert count(demo_session) == demo_dataset.counts["parties"]
    demo_session.rollback()
    assert count(demo_session) == demo_dataset.counts["parties"]
"""


def _check(name: str) -> str:
    return f"""
def test_{name}(demo_session, demo_engine, demo_election):
    assert_pristine(demo_session, demo_engine, demo_election)
"""


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_writes_inside_a_test_are_invisible_before_and_after(inner: Inner, writer: str) -> None:
    inner.test_file(
        "import pytest\n@pytest.fixture(autouse=True)\ndef _small(): pass\n"
        + CHECKS
        + _check("a_before")
        + WRITERS[writer]
        + _check("z_after")
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "-v")
    result.stdout.fnmatch_lines(["*test_a_before PASSED*", "*test_write *", "*test_z_after PASSED*"])
    if writer == "failing_test":
        result.assert_outcomes(passed=2, failed=1)
    else:
        result.assert_outcomes(passed=3)


def test_a_test_that_commits_is_invisible_to_the_next_in_both_orders(inner: Inner) -> None:
    body = CHECKS + WRITERS["session_commit"] + _check("check")
    inner.test_file(body, name="test_write_first")
    inner.test_file(CHECKS + _check("check") + WRITERS["session_commit"], name="test_check_first")
    result = inner.pytester.runpytest(
        "-p", "no:randomly", "--demo-scenario=small", "-v", "test_write_first.py", "test_check_first.py"
    )
    result.stdout.fnmatch_lines(
        [
            "*test_write_first.py::test_write PASSED*",
            "*test_write_first.py::test_check PASSED*",
            "*test_check_first.py::test_check PASSED*",
            "*test_check_first.py::test_write PASSED*",
        ]
    )
    result.assert_outcomes(passed=4)
    # pytest-randomly shuffling the order changes nothing either
    for seed in ("1", "2", "3"):
        shuffled = inner.pytester.runpytest(
            "-p", "randomly", f"--randomly-seed={seed}", "--demo-scenario=small"
        )
        shuffled.assert_outcomes(passed=4)


def test_a_fixture_that_writes_then_errors_in_setup_leaves_nothing(inner: Inner) -> None:
    inner.test_file(
        CHECKS
        + """
@pytest.fixture()
def broken(demo_session, demo_election):
    demo_session.add(Party(election=demo_election, name="Intruder", number=94, color="#000007"))
    demo_session.commit()
    raise RuntimeError("setup fails after writing")

def test_a_errors(broken):
    pass
"""
        + _check("b_after")
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "-v")
    result.stdout.fnmatch_lines(["*test_a_errors ERROR*", "*test_b_after PASSED*"])
    result.assert_outcomes(passed=1, errors=1)


def test_a_fixture_that_writes_then_errors_in_teardown_leaves_nothing(inner: Inner) -> None:
    inner.test_file(
        CHECKS
        + """
@pytest.fixture()
def broken(demo_session, demo_election):
    yield
    demo_session.add(Party(election=demo_election, name="Intruder", number=93, color="#000008"))
    demo_session.commit()
    raise RuntimeError("teardown fails after writing")

def test_a_errors_in_teardown(broken):
    pass
"""
        + _check("b_after")
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small")
    result.assert_outcomes(passed=2, errors=1)


def test_the_database_file_holds_only_the_scenario_after_writing_tests(inner: Inner) -> None:
    db = inner.pytester.path / "kept.sqlite"
    inner.test_file(
        CHECKS
        + WRITERS["session_commit"]
        + WRITERS["raw_sql_connection"].replace("def test_write", "def test_write_raw")
    )
    result = inner.pytester.runpytest(
        "-p", "no:randomly", "--demo-scenario=small", f"--demo-db-url=sqlite:///{db}", "--demo-keep"
    )
    result.assert_outcomes(passed=2)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from parties").fetchone() == (2,)
        assert conn.execute("select count(*) from electors").fetchone() == (50,)
        assert conn.execute("select count(*) from attendances").fetchone() == (25,)
        assert conn.execute("select count(*) from parties where name = 'Intruder'").fetchone() == (0,)


def test_factory_rows_do_not_collide_with_scenario_keys(inner: Inner) -> None:
    inner.test_file(
        CHECKS
        + """
def test_create(demo_session, demo_factories, demo_election, demo_dataset):
    party = demo_factories.Party.create(election=demo_election)
    committee = demo_factories.Committee.create(election=demo_election)
    member = demo_factories.Member.create(election=demo_election)
    elector = demo_factories.Elector.create(election=demo_election, committee=committee)
    demo_session.commit()
    assert party.id > 2 and party.number not in {1, 2}
    assert committee.id > 2 and elector.id > 50 and member.id > 3
    assert demo_session.scalar(sa.select(sa.func.count()).select_from(Elector)) == 51
"""
        + _check("after")
    )
    inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small").assert_outcomes(passed=2)


def test_commits_failed_transactions_and_the_root_do_not_leak_on_every_backend(
    pytester: pytest.Pytester, server: Server
) -> None:
    """On every backend, in order (``test_iso``): a test commits, two leave a failed (on
    PostgreSQL: aborted) transaction; the last still sees the scenario exactly as built, with a
    working connection. Then, on PostgreSQL and MariaDB (``test_root``): the election a test
    changes and commits (merged into its session from the worker's copy of the root row) and
    its other commits are gone for the next test, whose ``demo_election`` is again the row as
    built. (One inner run per server, not two: these were two tests, each with its own run.)"""
    pytester.makepyfile(test_iso=ISOLATION)
    if server.is_server:
        pytester.makepyfile(
            test_root=CHECKS
            + _check("a_before")
            + WRITERS["root_changed"]
            + WRITERS["session_commit"].replace("def test_write", "def test_write_more")
            + _check("z_after")
        )
    result = run(pytester, server, "--demo-scenario", "small", "-v")
    result.assert_outcomes(passed=9 if server.is_server else 5)
    if server.is_server:  # test_iso's five, then test_root's four, in one worker
        result.stdout.fnmatch_lines(
            ["*test_iso.py::test_5_nested_rollback_and_commit PASSED*", "*test_root.py::*"]
        )
