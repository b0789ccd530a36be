"""The async fixtures: the test's scenario through an async driver, in a transaction rolled back after it.

Light, like :mod:`pytest_demoseed.plugin.fixtures`: no SQLAlchemy and no async driver at import
(the heavy half is :mod:`pytest_demoseed.plugin.async_runtime`, imported in the bodies).

Which plugin runs the async part, and in which loop: the public fixtures are plain (sync)
fixtures, so neither pytest-asyncio (strict or auto) nor anyio has to know them; each asks for
one private async fixture that holds the test's connection, chosen per test so that it runs in
the test's own event loop:

- an anyio test (``anyio_backend`` among its fixtures): ``_demo_async_anyio``, a plain async
  fixture that anyio's plugin runs in the test's runner;
- otherwise pytest-asyncio: ``_demo_async_<scope>``, declared with
  ``pytest_asyncio.fixture(loop_scope=<scope>)``, for the test's loop scope (its
  ``asyncio`` marker's ``loop_scope``, else ini ``asyncio_default_test_loop_scope``).

The connection itself belongs to no test loop (see :mod:`pytest_demoseed.plugin.async_runtime`),
so a user's async fixture in another loop than its test's may use the session too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

    from pytest_demoseed.plugin.async_runtime import AsyncBinder, AsyncPerTest
    from pytest_demoseed.plugin.runtime import PerTest

#: The public async fixtures.
PUBLIC = (
    "demo_async_bind_factories",
    "demo_async_connection",
    "demo_async_engine",
    "demo_async_root",
    "demo_async_session",
)
#: pytest-asyncio's loop scopes, narrowest first.
LOOP_SCOPES = ("function", "class", "module", "package", "session")

#: Every fixture this module defines: a test that uses one makes the plugin activate, and the
#: collection check makes sure the async driver and an async test plugin are there.
ASYNC_FIXTURE_NAMES = frozenset(
    {
        *PUBLIC,
        "_demo_async_anyio",
        *(f"_demo_async_{scope}" for scope in LOOP_SCOPES),
    }
)


def _loop_scope(request: pytest.FixtureRequest) -> str:
    """The loop scope pytest-asyncio runs the test in (pytest-asyncio 1.x rules)."""
    marker = request.node.get_closest_marker("asyncio")
    scope = marker.kwargs.get("loop_scope") or marker.kwargs.get("scope") if marker is not None else None
    if scope is None:
        try:
            scope = request.config.getini("asyncio_default_test_loop_scope")
        except ValueError:  # an older pytest-asyncio without this ini value
            scope = None
    return str(scope or "function")


def _per_test(request: pytest.FixtureRequest) -> AsyncPerTest:
    """The test's async connection, from the async fixture that runs in the test's loop."""
    if "anyio_backend" in request.fixturenames:
        backend = request.getfixturevalue("anyio_backend_name")
        if backend != "asyncio":
            pytest.skip(f"SQLAlchemy's asyncio layer runs on asyncio, not {backend}")
        value: AsyncPerTest = request.getfixturevalue("_demo_async_anyio")
        return value
    if not request.config.pluginmanager.has_plugin("asyncio"):
        pytest.fail(
            "the async demo fixtures need pytest-asyncio, or anyio's plugin and an anyio test", pytrace=False
        )
    value = request.getfixturevalue(f"_demo_async_{_loop_scope(request)}")
    return value


@pytest.fixture()
def demo_async_engine(pytestconfig: pytest.Config, _demo_provided: PerTest) -> AsyncEngine:
    """This worker's database for the test's scenario, through the async driver.

    Safe in any event loop: a pool of aiosqlite connections (which serve any loop) on SQLite, of
    asyncpg or aiomysql connections kept on the plugin's own loop thread on the servers. Writes
    made through it outside ``demo_async_connection`` are not rolled back.
    """
    from pytest_demoseed.plugin import async_runtime  # the heavy half, for lightness

    provided = _demo_provided.provided
    return async_runtime.shared_engine(pytestconfig, provided.url, _demo_provided.spec.key)


@pytest.fixture()
def demo_async_connection(request: pytest.FixtureRequest, _demo_provided: PerTest) -> AsyncConnection:
    """An ``AsyncConnection`` inside a transaction that is rolled back after the test."""
    return _per_test(request).connection


@pytest.fixture()
def demo_async_session(request: pytest.FixtureRequest, _demo_provided: PerTest) -> AsyncSession:
    """An ``AsyncSession`` joined to the test's transaction: ``commit()`` only releases a
    SAVEPOINT; ``rollback()`` and ``begin_nested()`` work; ``expire_on_commit=False``."""
    return _per_test(request).session


@pytest.fixture()
def demo_async_root(request: pytest.FixtureRequest, demo_async_session: AsyncSession) -> Any:
    """The scenario's root object in ``demo_async_session`` (read once per worker)."""
    per_test = _per_test(request)
    scenario = per_test.spec.scenario
    if scenario.root_model is None or per_test.dataset.root_id is None:
        pytest.fail(f"scenario {scenario.name!r} declares no root model to load", pytrace=False)
    return per_test.root()


@pytest.fixture()
def demo_async_bind_factories(
    request: pytest.FixtureRequest, demo_async_session: AsyncSession, _demo_provided: PerTest
) -> Iterator[AsyncBinder]:
    """``await demo_async_bind_factories(F1, module, ...)``: factories add their objects to
    ``demo_async_session`` (then ``await demo_async_session.flush()``), sequences past the
    scenario's rows, factory_boy reseeded per test; undone after the test."""
    from pytest_demoseed.plugin import async_runtime  # the heavy half, for lightness

    dataset = _demo_provided.dataset
    binder = async_runtime.AsyncBinder(
        demo_async_session, dataset.sequences, dataset.seed, request.node.nodeid
    )
    try:
        yield binder
    finally:
        binder.close()


# --- the async part, in the test's loop ----------------------------------------------------------


async def _open(config: pytest.Config, provided: PerTest) -> AsyncIterator[AsyncPerTest]:
    """The test's async connection, in the test's loop, from the worker's engine. With
    ``demo_reset_sequences`` the key counters are put back before and after, as for the sync
    fixtures."""
    from pytest_demoseed.plugin import async_runtime  # the heavy half, for lightness

    engine = async_runtime.shared_engine(config, provided.provided.url, provided.spec.key)
    provided.counters_before_use()
    per_test = async_runtime.AsyncPerTest(engine, provided.dataset, provided.spec)
    await per_test.start(async_runtime.roots(config))
    try:
        yield per_test
    finally:
        try:
            await per_test.close()
        finally:
            provided.counters_after_use()


@pytest.fixture()
async def _demo_async_anyio(
    pytestconfig: pytest.Config, _demo_provided: PerTest
) -> AsyncIterator[AsyncPerTest]:
    async for per_test in _open(pytestconfig, _demo_provided):
        yield per_test


try:  # pytest-asyncio: one variant per loop scope, all public API (``pytest_asyncio.fixture``)
    import pytest_asyncio
except ImportError:  # anyio only
    pytest_asyncio = None  # type: ignore[assignment]

ASYNCIO_FIXTURES: dict[str, Any] = {}
if pytest_asyncio is not None:
    #: ``pytest_asyncio.fixture``, its scopes given as plain strings here
    _asyncio_fixture: Any = pytest_asyncio.fixture

    def _variant(scope: str) -> Any:
        async def tx(pytestconfig: pytest.Config, _demo_provided: PerTest) -> AsyncIterator[AsyncPerTest]:
            async for per_test in _open(pytestconfig, _demo_provided):
                yield per_test

        return _asyncio_fixture(tx, loop_scope=scope, name=f"_demo_async_{scope}")

    for _scope in LOOP_SCOPES:
        ASYNCIO_FIXTURES[f"_demo_async_{_scope}"] = _variant(_scope)
    globals().update(ASYNCIO_FIXTURES)  # module attributes: the plugin star-imports them

__all__ = [*PUBLIC, "_demo_async_anyio", *ASYNCIO_FIXTURES]
