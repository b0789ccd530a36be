"""Async driver connections that outlive a test's event loop: they live on a loop of the worker's own.

An asyncpg or aiomysql connection belongs to the event loop that opened it, and pytest-asyncio's
default (and anyio's) is a new loop per test, so a test could only ever use a connection it
opened itself (~6 ms of connect, authentication and setup per test on PostgreSQL on this
project's machines), and a fixture in another loop than its test's could not use the test's
connection at all. Here the worker's connections are opened on a :class:`DriverLoop`, an event
loop running in a daemon thread for the whole run, and SQLAlchemy's adapter is handed a
:class:`Remote` in their place: every awaitable the adapter asks of the connection (or of a
prepared statement, transaction or cursor it made) runs on the driver loop, and the caller's
loop awaits the result. So an engine can keep a pool that any loop may use, and no loop's end
closes a connection under the next test.

Thread safety: the caller's thread only creates coroutine objects and reads plain attributes
(``is_closed()``, a cursor's ``description``); what touches the socket runs on the driver loop's
thread (awaitables, and the plain ``close()``/``terminate()`` that drop a transport), one call at
a time: the caller awaits each before the next.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa

__all__ = ["DRIVERS", "DriverLoop", "Remote", "RemoteAwaitable", "connect_on"]

#: Plain (not async) methods that drop the transport: called on the driver loop's thread.
_LOOP_CALLS = frozenset({"close", "terminate"})


class DriverLoop:
    """An event loop in a daemon thread of its own, for the run (see the module's docstring)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="demoseed-driver-loop", daemon=True
        )
        self._thread.start()
        self._remote_types: tuple[type, ...] = ()

    async def run(self, awaitable: Awaitable[Any]) -> Any:
        """Await ``awaitable`` on the driver loop, from any other loop; driver objects that
        come back (a prepared statement, a cursor) come back as :class:`Remote`."""
        done = asyncio.run_coroutine_threadsafe(_awaited(awaitable), self.loop)
        return self.remote(await asyncio.wrap_future(done))

    def remote(self, value: Any) -> Any:
        return Remote(value, self) if isinstance(value, self._remote_types) else value

    def serve(self, driver: str) -> Callable[..., Any]:
        """Take ``driver``'s objects in (see :data:`DRIVERS`); its own connect function."""
        types, connect = DRIVERS[driver]()
        self._remote_types = tuple(dict.fromkeys((*self._remote_types, *types)))
        return connect

    def call_soon(self, function: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(function)

    def close(self) -> None:
        """Stop the loop and its thread (after the engines on it are disposed)."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class Remote:
    """A driver object whose awaitables run on a :class:`DriverLoop` (its plain reads do not)."""

    __slots__ = ("_driver_loop", "_target")

    def __init__(self, target: Any, driver_loop: DriverLoop) -> None:
        self._target = target
        self._driver_loop = driver_loop

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute
        driver_loop = self._driver_loop
        if name in _LOOP_CALLS and not inspect.iscoroutinefunction(attribute):
            return lambda *args, **kwargs: driver_loop.call_soon(lambda: attribute(*args, **kwargs))

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)  # an async method's coroutine: nothing has run yet
            if inspect.iscoroutine(result):
                return driver_loop.run(result)
            if inspect.isawaitable(result):  # also an async context manager, say (aiomysql's cursor())
                return RemoteAwaitable(result, driver_loop)
            return driver_loop.remote(result)

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        if name in Remote.__slots__:
            object.__setattr__(self, name, value)
        else:  # a cursor's ``arraysize``
            setattr(self._target, name, value)

    def __repr__(self) -> str:
        return f"Remote({self._target!r})"


class RemoteAwaitable(Remote):
    """A driver's awaitable that is more than a coroutine: awaited on the driver loop, its other
    methods (``__aenter__``) run there as :class:`Remote`'s do."""

    __slots__ = ()

    def __await__(self) -> Any:
        return self._driver_loop.run(self._target).__await__()


def connect_on(engine: sa.Engine, driver_loop: DriverLoop) -> None:
    """Make ``engine`` (the sync side of an asyncpg or aiomysql ``AsyncEngine``) open its
    connections on ``driver_loop``: SQLAlchemy still computes the connect arguments from the URL,
    and its adapter receives a :class:`Remote` connection."""
    own_connect = driver_loop.serve(engine.dialect.driver)

    @sa.event.listens_for(engine, "do_connect")
    def _on_driver_loop(dialect: sa.Dialect, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        connect = cparams.pop("async_creator_fn", None) or own_connect
        cparams["async_creator_fn"] = lambda *args, **kwargs: driver_loop.run(connect(*args, **kwargs))


def _asyncpg() -> tuple[tuple[type, ...], Callable[..., Any]]:
    """asyncpg's connection and what the adapter gets from it, and its connect function."""
    import asyncpg  # the optional drivers: imported only for a run that uses them
    from asyncpg.cursor import Cursor
    from asyncpg.prepared_stmt import PreparedStatement
    from asyncpg.transaction import Transaction

    return (asyncpg.Connection, PreparedStatement, Transaction, Cursor), asyncpg.connect


def _aiomysql() -> tuple[tuple[type, ...], Callable[..., Any]]:
    """aiomysql's connection and cursors (every cursor class derives from ``Cursor``)."""
    import aiomysql

    return (aiomysql.Connection, aiomysql.Cursor), aiomysql.connect


#: The async drivers whose connections belong to a loop, by SQLAlchemy's driver name.
DRIVERS: dict[str, Callable[[], tuple[tuple[type, ...], Callable[..., Any]]]] = {
    "asyncpg": _asyncpg,
    "aiomysql": _aiomysql,
}
