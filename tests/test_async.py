"""The async fixtures on every backend: each test's work rolled back, in any event loop.

Few, dense inner runs (each a subprocess: xdist workers are processes, and SQLAlchemy's asyncio
layer is imported there, not in this process). Per backend: pytest-asyncio's strict mode with
anyio's plugin beside it, ``-n 2`` and pytest-randomly; then auto mode with a module-wide loop
by default. Every inner test first checks that the scenario is intact, so any leak from another
test, in any order and on either worker, fails it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from servers import Server, db_server, require_server, selected_servers, server  # noqa: F401  (fixtures)

from pytest_demoseed.storage.async_engines import async_url

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "async_notes"

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
"""

#: Strict mode: every test marked, anyio's tests too.
STRICT = """
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from pytest_demoseed.election import factories, models

TABLES = ("parties", "guarantees", "attendances")


async def count(db, table):
    return (await db.execute(sa.text(f"select count(*) from {table}"))).scalar_one()


async def intact(db, dataset):
    for table in TABLES:
        assert await count(db, table) == dataset.counts[table], table


@pytest.mark.asyncio
async def test_commit_inside_test_is_rolled_back(demo_async_session, demo_dataset):
    await intact(demo_async_session, demo_dataset)
    await demo_async_session.execute(sa.delete(models.Attendance))
    await demo_async_session.commit()
    assert await count(demo_async_session, "attendances") == 0
    await demo_async_session.execute(sa.delete(models.Guarantee))
    await demo_async_session.commit()
    assert await count(demo_async_session, "guarantees") == 0


@pytest.mark.asyncio
async def test_nested_savepoints(demo_async_session, demo_dataset):
    session = demo_async_session
    await intact(session, demo_dataset)
    async with session.begin_nested():
        await session.execute(sa.delete(models.Attendance))
        inner = await session.begin_nested()
        await session.execute(sa.delete(models.Guarantee))
        await inner.rollback()
        assert await count(session, "guarantees") == demo_dataset.counts["guarantees"]
    assert await count(session, "attendances") == 0
    await session.rollback()  # the session's own SAVEPOINT: back to the scenario
    await intact(session, demo_dataset)


@pytest.mark.asyncio
async def test_error_inside_test_then_rollback(demo_async_session, demo_dataset):
    session = demo_async_session
    await intact(session, demo_dataset)
    party = (await session.execute(sa.select(models.Party).limit(1))).scalar_one()
    session.add(models.Party(election_id=party.election_id, name="dup", number=party.number, color="#ABCDEF"))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()  # PostgreSQL: its aborted transaction, back to the SAVEPOINT
    await intact(session, demo_dataset)


@pytest.mark.asyncio
@pytest.mark.xfail(raises=DBAPIError, strict=True)
async def test_error_left_in_the_test_fails_only_that_test(demo_async_connection, demo_dataset):
    await demo_async_connection.execute(sa.delete(models.Attendance))
    await demo_async_connection.execute(sa.text("select no_such_column from parties"))


@pytest.mark.asyncio
async def test_root_factories_engine(
    demo_async_root, demo_async_session, demo_async_bind_factories, demo_async_engine, demo_dataset
):
    session = demo_async_session
    await intact(session, demo_dataset)
    assert isinstance(demo_async_root, models.Election) and demo_async_root in session
    assert demo_async_root.id == demo_dataset.root_id
    await session.refresh(demo_async_root, ["parties"])
    assert len(demo_async_root.parties) == demo_dataset.counts["parties"]
    await demo_async_bind_factories(factories.PartyFactory)
    party = factories.PartyFactory(election=demo_async_root, color="#FEDCBA")
    await session.flush()
    assert party.id > demo_dataset.counts["parties"]
    assert party.name not in {p.name for p in demo_async_root.parties[:-1]}
    await session.commit()
    async with demo_async_engine.connect() as other:  # its own connection: the commit is not there
        assert await count(other, "parties") == demo_dataset.counts["parties"]


@pytest.mark.asyncio(loop_scope="module")
async def test_module_loop_one(demo_async_session, demo_dataset):
    await intact(demo_async_session, demo_dataset)
    await demo_async_session.execute(sa.delete(models.Attendance))
    await demo_async_session.commit()


@pytest.mark.asyncio(loop_scope="module")
async def test_module_loop_two(demo_async_connection, demo_dataset):
    await intact(demo_async_connection, demo_dataset)
    await demo_async_connection.execute(sa.delete(models.Attendance))


@pytest.mark.anyio
async def test_anyio(demo_async_session, demo_async_root, demo_dataset):
    await intact(demo_async_session, demo_dataset)
    assert demo_async_root.id == demo_dataset.root_id
    await demo_async_session.execute(sa.delete(models.Attendance))
    await demo_async_session.commit()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_is_skipped(demo_async_session):
    raise AssertionError("SQLAlchemy's asyncio layer cannot run on trio")


def test_sync_fixtures_see_the_scenario(demo_session, demo_dataset):
    for table in TABLES:
        found = demo_session.execute(sa.text(f"select count(*) from {table}")).scalar_one()
        assert found == demo_dataset.counts[table]
"""

#: Auto mode, a module-wide loop by default (ini), unmarked tests and a plain async fixture of
#: the user's on top of the async session; a test in its own loop, a class-wide loop, and
#: ``demo_reset_sequences``. Which server connection each test used is noted, and checked last.
AUTO = """
import pytest
import sqlalchemy as sa

from pytest_demoseed.election import models

CONNECTION_ID = {"postgresql": "select pg_backend_pid()", "mysql": "select connection_id()"}
SEEN = {}


@pytest.fixture()
async def attendance_count(demo_async_session, request):
    query = CONNECTION_ID.get(demo_async_session.bind.dialect.name)
    if query:
        SEEN[request.node.name] = (await demo_async_session.execute(sa.text(query))).scalar_one()

    async def counted():
        query = sa.select(sa.func.count()).select_from(models.Attendance)
        return (await demo_async_session.execute(query)).scalar_one()
    return counted


async def test_one(demo_async_session, attendance_count, demo_dataset):
    assert await attendance_count() == demo_dataset.counts["attendances"]
    await demo_async_session.execute(sa.delete(models.Attendance))
    await demo_async_session.commit()
    assert await attendance_count() == 0


async def test_two(demo_async_session, attendance_count, demo_dataset, demo_async_root):
    assert await attendance_count() == demo_dataset.counts["attendances"]
    await demo_async_session.execute(sa.delete(models.Attendance))


@pytest.mark.asyncio(loop_scope="function")
async def test_three_in_its_own_loop(demo_async_session, attendance_count, demo_dataset):
    assert await attendance_count() == demo_dataset.counts["attendances"]


@pytest.mark.asyncio(loop_scope="class")
class TestClassLoop:
    async def test_deletes(self, demo_async_session, attendance_count, demo_dataset):
        assert await attendance_count() == demo_dataset.counts["attendances"]
        await demo_async_session.execute(sa.delete(models.Attendance))
        await demo_async_session.commit()

    async def test_sees_the_scenario(self, attendance_count, demo_dataset):
        assert await attendance_count() == demo_dataset.counts["attendances"]


async def new_party_id(session, root):
    party = models.Party(election_id=root.id, name="new", number=999, color="#ABCDEF")
    session.add(party)
    await session.commit()
    return party.id


@pytest.mark.demo_reset_sequences
async def test_reset_a(demo_async_session, demo_async_root):
    SEEN["reset_a"] = await new_party_id(demo_async_session, demo_async_root)


async def test_between_without_reset(demo_async_session, demo_async_root):
    SEEN["between"] = await new_party_id(demo_async_session, demo_async_root)


@pytest.mark.demo_reset_sequences
async def test_reset_b(demo_async_session, demo_async_root, demo_dataset):
    assert await new_party_id(demo_async_session, demo_async_root) == SEEN["reset_a"]
    assert SEEN["reset_a"] == demo_dataset.counts["parties"] + 1


def test_zz_connections(demo_dataset):
    if "test_one" not in SEEN:  # SQLite: no server connection to tell apart
        return
    # the module's loop, a test's own loop and a class's loop all used the one connection kept
    # on the plugin's own loop thread
    names = ("test_one", "test_two", "test_three_in_its_own_loop", "test_deletes", "test_sees_the_scenario")
    assert len({SEEN[name] for name in names}) == 1, SEEN
"""

#: The same in a package-wide loop.
PACKAGE = """
import pytest
import sqlalchemy as sa

from pytest_demoseed.election import models


@pytest.mark.asyncio(loop_scope="package")
async def test_package_one(demo_async_session, demo_dataset):
    await demo_async_session.execute(sa.delete(models.Guarantee))
    await demo_async_session.commit()


@pytest.mark.asyncio(loop_scope="package")
async def test_package_two(demo_async_connection, demo_dataset):
    query = sa.select(sa.func.count()).select_from(models.Guarantee)
    assert (await demo_async_connection.execute(query)).scalar_one() == demo_dataset.counts["guarantees"]
"""


def test_async_fixtures_strict_anyio_xdist_randomly(pytester: pytest.Pytester, server: Server) -> None:  # noqa: F811
    pytester.makeini(INI)
    pytester.makepyfile(test_strict=STRICT)
    result = pytester.runpytest_subprocess("-p", "randomly", "-n", "2", "-rs", "--demo-db-url", server.url)
    result.assert_outcomes(passed=8, xfailed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*SQLAlchemy's asyncio layer runs on asyncio, not trio"])
    # both workers built or cloned their own database
    result.stdout.fnmatch_lines(["*gw0:*", "*gw1:*"], consecutive=False)


def test_async_fixtures_auto_mode_wide_loop(pytester: pytest.Pytester, server: Server) -> None:  # noqa: F811
    """Auto mode with a module-wide loop, the run given the async form of the URL: the plugin
    builds through the sync driver of the same database and the async fixtures use the async one."""
    pytester.makeini(INI + "asyncio_mode = auto\nasyncio_default_test_loop_scope = module\n")
    pytester.makepyfile(test_auto=AUTO)
    package = pytester.mkpydir("wide")
    (package / "test_package.py").write_text(textwrap.dedent(PACKAGE))
    given = async_url(server.url).render_as_string(hide_password=False)
    assert "+psycopg" not in given and "+pymysql" not in given
    # a subprocess: under pytester's in-process runner the second of these runs (whichever
    # backend) lets test_one's commit through to test_two. Two pytest.main() runs in one
    # interpreter pass; pytester also drops the modules each run imported, so the second imports
    # SQLAlchemy's asyncio layer afresh beside the rest of SQLAlchemy, kept: a harness artifact
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--demo-db-url", given)
    result.assert_outcomes(passed=11)


def test_missing_async_driver_is_one_usage_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        aiosqlite="raise ImportError('No module named aiosqlite')",
        test_one="""
        import pytest

        @pytest.mark.asyncio
        async def test_one(demo_async_session):
            pass
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["ERROR: the aiosqlite driver for sqlite is not installed: pip install 'pytest-demoseed[asyncio]'"]
    )


def test_the_async_example_passes_on_the_servers(db_server: Server, tmp_path: Path) -> None:  # noqa: F811
    """examples/async_notes (run on SQLite by tests/test_examples.py) on PostgreSQL and MariaDB."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "randomly"]
        + [f"--basetemp={tmp_path}", "--demo-db-url", db_server.url],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("6 passed in"), done.stdout


def test_urls_derive_each_other_and_seed_takes_an_async_engine(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from pytest_demoseed import seed
    from pytest_demoseed.storage.async_engines import async_url, sync_url

    pairs = {
        "sqlite+pysqlite:///a.db": "sqlite+aiosqlite:///a.db",
        "postgresql+psycopg://u:p@h:5/d": "postgresql+asyncpg://u:p@h:5/d",
        "mysql+pymysql://u@h/d": "mysql+aiomysql://u@h/d",
        "mariadb+pymysql://u@h/d": "mariadb+aiomysql://u@h/d",
    }
    for sync, asynchronous in pairs.items():
        assert async_url(sync).render_as_string(hide_password=False) == asynchronous
        assert sync_url(asynchronous).render_as_string(hide_password=False) == sync
        assert async_url(asynchronous) == async_url(sync)
    assert async_url("sqlite:///a.db").drivername == "sqlite+aiosqlite"
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'seeded.db'}")
    report = seed(engine, "baseline", create_schema=True)
    assert report.counts["electors"] == 2000
    assert report.database.startswith("sqlite+pysqlite:///")  # built through the sync driver

    async def electors() -> int:
        async with engine.connect() as conn:
            return int((await conn.exec_driver_sql("select count(*) from electors")).scalar_one())

    assert asyncio.run(electors()) == 2000
    asyncio.run(engine.dispose())
    again = seed(f"sqlite+aiosqlite:///{tmp_path / 'seeded.db'}", "baseline", clear=True)  # an async URL
    assert again.fingerprint == report.fingerprint


# the PostgreSQL dialect, imported again after an in-process inner run dropped it from
# sys.modules, registers its SQL functions again: SQLAlchemy warns, harmlessly
@pytest.mark.filterwarnings("ignore:The GenericFunction:sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("kind", selected_servers())
def test_driver_loop_connections_serve_every_loop(kind: str) -> None:
    """storage/driver_loop: one server connection, opened on the driver loop, used from three
    event loops that each close after use; an error comes back as SQLAlchemy's and leaves the
    connection usable; a server-side cursor streams through it; it all stops cleanly."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    from pytest_demoseed.storage.async_engines import make_async_engine
    from pytest_demoseed.storage.driver_loop import DriverLoop, connect_on

    database = "postgres" if kind == "postgresql" else "mysql"
    engine = make_async_engine(f"{require_server(kind)}/{database}", pool_size=1, max_overflow=-1)
    driver_loop = DriverLoop()
    connect_on(engine.sync_engine, driver_loop)
    which = "select pg_backend_pid()" if kind == "postgresql" else "select connection_id()"

    async def one() -> object:
        async with engine.connect() as conn:
            found = (await conn.exec_driver_sql(which)).scalar_one()
            with pytest.raises(DBAPIError, match="no_such_table"):
                await conn.exec_driver_sql("select * from no_such_table")
            await conn.rollback()
            assert (await conn.exec_driver_sql("select 1")).scalar_one() == 1
            return found

    async def streamed() -> list[int]:
        async with engine.connect() as conn:
            result = await conn.stream(sa.text("select 1 union all select 2"))
            return [row[0] async for row in result]

    try:
        assert len({asyncio.run(one()) for _ in range(3)}) == 1
        assert asyncio.run(streamed()) == [1, 2]
    finally:
        asyncio.run(engine.dispose())
        driver_loop.close()
    assert driver_loop.loop.is_closed()
