"""The heavy half of the async fixtures: async engines per worker and per event loop, the test's
async transaction, the root object and factory binding for ``AsyncSession``.

Imported only from the bodies of :mod:`pytest_demoseed.plugin.async_fixtures` (and the
collection check in :mod:`pytest_demoseed.plugin`), for lightness.

The event-loop rule: nothing the plugin keeps between tests is bound to an event loop unless it
is owned by a fixture that lives exactly as long as that loop. Per worker and spec there is one
``AsyncEngine`` with ``NullPool`` (its dialect initialised once; it holds no connection, so any
loop may use it): tests in a function-scoped loop (pytest-asyncio's default, anyio) open their
connection in their own loop and close it before that loop ends. Tests whose pytest-asyncio
loop is wider (``loop_scope="module"``, ``"session"``, ...) get a pooled engine owned by a
fixture of that very scope and loop, disposed in that loop when its scope ends, so a
connection is reused across the tests that share the loop and never outlives it. SQLite's
engine is pooled for every loop: an aiosqlite connection belongs to no loop (see
:func:`shared_engine`).
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

__all__ = ["AsyncBinder", "AsyncPerTest", "LoopEngines", "check_run", "shared_engine"]

#: Per worker: spec key -> the NullPool AsyncEngine of that spec's database.
_SHARED = pytest.StashKey[dict[str, AsyncEngine]]()
#: Per worker: spec key -> the scenario's root row, detached (read once).
_ROOTS = pytest.StashKey[dict[str, Any]]()


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
    """The worker's loop-free engine for one spec's database.

    ``NullPool`` on the servers: asyncpg's and aiomysql's connections belong to the loop that made
    them. SQLite keeps a pool: an aiosqlite connection is a thread of its own that answers each
    call on the loop that made the call, so one connection serves the worker's tests in any loop
    (no thread start, connect and PRAGMA per test); it is closed at the end of the run.
    """
    engines = config.stash.setdefault(_SHARED, {})
    engine = engines.get(key)
    if engine is None:
        if sa.make_url(url).get_backend_name() == "sqlite":
            engine = make_async_engine(
                url, poolclass=sa.pool.AsyncAdaptedQueuePool, pool_size=1, max_overflow=8
            )
            config.add_cleanup(functools.partial(_dispose_outside_a_loop, engine))
        else:
            engine = make_async_engine(url, poolclass=sa.pool.NullPool)
            config.add_cleanup(engine.sync_engine.dispose)  # holds no connection: nothing to await
        engines[key] = engine
    return engine


def _dispose_outside_a_loop(engine: AsyncEngine) -> None:
    """Close a pooled aiosqlite engine's connections when no test loop is left (end of run)."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(engine.dispose())
    finally:
        loop.close()


class LoopEngines:
    """Pooled engines for one wider pytest-asyncio loop, per spec; disposed in that loop."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._engines: dict[str, AsyncEngine] = {}

    def get(self, url: str, key: str) -> AsyncEngine:
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        if loop is not self.loop:  # a test in another loop than its owner: no pool to share
            raise RuntimeError("demoseed: a pooled async engine was asked for from another event loop")
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = make_async_engine(url, pool_size=2, max_overflow=8)
        return engine

    async def dispose(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            await engine.dispose()


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
            if connection is not None:
                try:
                    if connection.in_transaction():
                        await connection.rollback()
                finally:
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
