"""The heavy half of the async fixtures: async engines per worker and per event loop, the test's
async transaction, the root object and factory binding for ``AsyncSession``.

Imported only from the bodies of :mod:`pytest_demoseed.plugin.async_fixtures` (and the
collection check in :mod:`pytest_demoseed.plugin`), for lightness.

The event-loop rule: nothing the plugin keeps between tests belongs to a test's event loop. Per
worker and spec there is one pooled ``AsyncEngine`` (its dialect initialised once) whose
connections belong to no test loop: on SQLite an aiosqlite connection is a thread of its own that
answers on the caller's loop; on PostgreSQL and MySQL/MariaDB the asyncpg and aiomysql
connections live on the worker's own :class:`~pytest_demoseed.storage.driver_loop.DriverLoop`
(an event loop in a thread, for the run). So every test, and every fixture, in any loop
(a loop per test, a module's or the session's, anyio's) reuses a connection, and no loop's end
closes one under the next test. The engines are disposed at the end of the run, outside any
test loop, and the driver loop stops after them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, lazyload

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.errors import DatabaseUrlError
from pytest_demoseed.factories.binding import bound_factories, factories_in, reset_sequences
from pytest_demoseed.generate.determinism import reseed_factory_boy
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.storage.async_engines import EXTRA, check_async_driver, make_async_engine
from pytest_demoseed.storage.driver_loop import DriverLoop, connect_on

__all__ = ["AsyncBinder", "AsyncPerTest", "check_run", "shared_engine"]

#: Per worker: spec key -> the AsyncEngine of that spec's database (see shared_engine).
_SHARED = pytest.StashKey[dict[str, AsyncEngine]]()
#: Per worker: spec key -> the scenario's root row, detached (read once).
_ROOTS = pytest.StashKey[dict[str, Any]]()
#: Per worker: the loop the server engines' connections live on.
_DRIVER_LOOP = pytest.StashKey[DriverLoop]()


def check_run(config: pytest.Config, db_url: str | None) -> None:
    """At collection, for a run whose tests use async fixtures: the async driver, greenlet and an
    async test runner (pytest-asyncio or anyio's plugin) are there, or one UsageError line."""
    try:
        check_async_driver(db_url or "sqlite:///demo.db")
    except DatabaseUrlError as exc:
        raise pytest.UsageError(str(exc)) from None
    manager = config.pluginmanager
    if not (manager.has_plugin("asyncio") or manager.has_plugin("anyio")):
        raise pytest.UsageError(
            f"the async demo fixtures need pytest-asyncio or anyio's pytest plugin: {EXTRA}"
        )


def shared_engine(config: pytest.Config, url: str, key: str) -> AsyncEngine:
    """The worker's engine for one spec's database, usable from any event loop.

    Pooled, last-used connection first; an unlimited overflow, because a pool that made a test
    wait would bind its queue to that test's loop. Closed at the end of the run.
    """
    engines = config.stash.setdefault(_SHARED, {})
    engine = engines.get(key)
    if engine is None:
        engine = make_async_engine(
            url, poolclass=sa.pool.AsyncAdaptedQueuePool, pool_size=2, max_overflow=-1, pool_use_lifo=True
        )
        if engine.dialect.name != "sqlite":  # aiosqlite's connections serve every loop already
            connect_on(engine.sync_engine, _driver_loop(config))
        config.add_cleanup(functools.partial(_dispose_outside_a_loop, engine))
        engines[key] = engine
    return engine


def _driver_loop(config: pytest.Config) -> DriverLoop:
    """The worker's driver loop, started on first use and stopped after its engines are disposed
    (cleanups run last-registered first, and every engine on it registers after it)."""
    driver_loop = config.stash.get(_DRIVER_LOOP, None)
    if driver_loop is None:
        driver_loop = config.stash[_DRIVER_LOOP] = DriverLoop()
        config.add_cleanup(driver_loop.close)
    return driver_loop


def _dispose_outside_a_loop(engine: AsyncEngine) -> None:
    """Close a pooled engine's connections when no test loop is left (end of run)."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(engine.dispose())
    finally:
        loop.close()


def joined_async_session(connection: AsyncConnection) -> AsyncSession:
    """An AsyncSession inside the test's transaction: ``commit()`` only releases a SAVEPOINT."""
    return AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


class AsyncPerTest:
    """One test's async connection (in a transaction rolled back after the test) and session."""

    __slots__ = ("_connection", "_root", "_session", "dataset", "engine", "spec")

    def __init__(self, engine: AsyncEngine, dataset: Dataset, spec: ScenarioSpec) -> None:
        self.engine = engine
        self.dataset = dataset
        self.spec = spec
        self._connection: AsyncConnection | None = None
        self._session: AsyncSession | None = None
        self._root: Any = None

    async def start(self, roots: dict[str, Any]) -> None:
        """Connect and begin; the worker's first test of a spec with a root model also reads
        the root row (detached, kept in ``roots``), so ``demo_async_root`` needs no I/O."""
        connection = await self.engine.connect()
        try:
            await connection.begin()
            key = self.spec.key
            if (
                key not in roots
                and self.spec.scenario.root_model is not None
                and self.dataset.root_id is not None
            ):
                roots[key] = await connection.run_sync(_load_root, self.spec, self.dataset)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._root = roots.get(self.spec.key)

    @property
    def connection(self) -> AsyncConnection:
        assert self._connection is not None, "AsyncPerTest.start() not awaited"
        return self._connection

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = joined_async_session(self.connection)
        return self._session

    def root(self) -> Any:
        """The scenario's root row as an object of the test's session, without a query: the
        worker's template merged with ``load=False``; relationships load when awaited
        (``await root.awaitable_attrs.name`` with ``AsyncAttrs``, or ``session.refresh``)."""
        if self._root is None:
            return None
        return self.session.sync_session.merge(self._root, load=False)

    async def close(self) -> None:
        """Close the session, roll the transaction back and close the connection, whatever the
        test did (committed, left PostgreSQL's transaction aborted, closed the session)."""
        session, connection, self._session, self._connection = self._session, self._connection, None, None
        try:
            if session is not None:
                await session.close()
        finally:
            if connection is not None:  # rolls the transaction back: one ROLLBACK, no pool reset after it
                await connection.close()


def roots(config: pytest.Config) -> dict[str, Any]:
    return config.stash.setdefault(_ROOTS, {})


def _load_root(connection: sa.Connection, spec: ScenarioSpec, dataset: Dataset) -> Any:
    model, root_id = spec.scenario.root_model, dataset.root_id
    assert model is not None
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        root = session.get(model, root_id, options=[lazyload("*")])
        if root is not None:
            session.expunge(root)
    return root


class AsyncBinder:
    """``await demo_async_bind_factories(F1, module, ...)``: factories add to the test's
    AsyncSession (``Factory()`` = ``session.add``; then ``await session.flush()``), their
    sequences past the scenario's rows; undone after the test."""

    def __init__(self, session: AsyncSession, sequences: Mapping[str, int], seed: int, nodeid: str) -> None:
        self._session = session
        self._sequences = sequences
        self._stack = ExitStack()
        reseed_factory_boy(seed, "test", nodeid)

    async def __call__(
        self, *factories: type | ModuleType, module_globals: Sequence[tuple[ModuleType, str]] = ()
    ) -> None:
        classes = [
            found
            for item in factories
            for found in (factories_in(item) if isinstance(item, ModuleType) else [item])
        ]
        sync_session = self._session.sync_session
        self._stack.enter_context(
            bound_factories(sync_session, *classes, module_globals=module_globals, reset=False)
        )
        self._stack.enter_context(_add_only(classes))
        await self._session.run_sync(reset_sequences, classes, self._sequences)

    def close(self) -> None:
        self._stack.close()


@contextmanager
def _add_only(factories: Sequence[Any]) -> Iterator[None]:
    """No flush or commit from inside a factory: on an AsyncSession that is the test's ``await``."""
    saved = [(cls._meta, cls._meta.sqlalchemy_session_persistence) for cls in factories]
    try:
        for meta, _ in saved:
            meta.sqlalchemy_session_persistence = None
        yield
    finally:
        for meta, value in reversed(saved):
            meta.sqlalchemy_session_persistence = value
