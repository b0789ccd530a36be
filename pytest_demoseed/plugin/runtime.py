"""The heavy half of the plugin: everything that needs SQLAlchemy, Faker, factory_boy or the snapshot flow.

Nothing imports this module when pytest loads the plugin. :meth:`DemoRun.activate
<pytest_demoseed.plugin.run.DemoRun.activate>` opens it when a run asks for demo data, and the
fixtures' bodies reach their helpers through it; both import it lazily, for lightness (a run
that uses no demo data never loads it), not to dodge an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, lazyload

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.factories.binding import bound_factories
from pytest_demoseed.generate.determinism import reseed_factory_boy, seeded_faker
from pytest_demoseed.plugin.run import DemoRun
from pytest_demoseed.plugin.settings import DemoSettings
from pytest_demoseed.plugin.state import DemoState
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.storage.provider import DatabaseProvider, Provided
from pytest_demoseed.storage.schema import load_metadata as schema_metadata

__all__ = [
    "DemoState",
    "PerTest",
    "activate",
    "bound_factories",
    "joined_session",
    "load_metadata",
    "reseed_factory_boy",
    "seeded_faker",
]


def activate(run: DemoRun) -> DemoState:
    """Resolve the run's settings and check them all, as one-line UsageErrors: the hook
    scenarios and entry points load, the default scenario and its overrides resolve, the
    database URL is usable and ``demo_metadata`` imports."""
    try:
        run.register_hook_scenarios()
    except ScenarioError as exc:  # a broken installed package or hook: one line, exit 4
        raise pytest.UsageError(str(exc)) from None
    settings = DemoSettings.from_config(run.config)
    state = DemoState(run.config, settings, run.run_id, run.registry, run.worker)
    state.check_database()
    if settings.metadata_path:
        load_metadata(settings.metadata_path)
    return state


def load_metadata(path: str) -> sa.MetaData:
    """``package.module:Base.metadata`` -> the MetaData object, or a one-line UsageError."""
    try:
        return schema_metadata(path)
    except ScenarioError as exc:
        raise pytest.UsageError(f"ini demo_metadata = {exc}") from None


def joined_session(connection: sa.Connection) -> Session:
    """A Session inside the test's transaction: its ``commit()`` only releases a SAVEPOINT."""
    return Session(bind=connection, join_transaction_mode="create_savepoint")


class PerTest:
    """What one test gets from its spec's data: the :class:`Provided` (``dataset``, ``spec``,
    ``engine``), and, only when a fixture asks, its connection, transaction and session.

    The value of the ``_demo_provided`` fixture, so the one per-test fixture under every demo
    fixture also carries the transaction: ``demo_connection`` and ``demo_session`` are plain
    views on it, one pytest fixture each (a test that takes ``demo_session`` + ``demo_election``
    sets up four fixtures, not five), and a test that takes only ``demo_dataset`` never connects.

    The connection comes from the engine's pool (one DBAPI connection per worker database, as
    before) and is closed after the test: a SQLAlchemy ``Connection`` keeps what a test gives it
    (execution options, event listeners), so it is not reused across tests.
    """

    __slots__ = ("_connection", "_provided", "_provider", "_reset", "_resets", "_roots", "_session")

    def __init__(
        self,
        provided: Provided,
        provider: DatabaseProvider,
        roots: dict[str, Any],
        resets: Callable[[], bool],
    ) -> None:
        self._provided = provided
        self._provider = provider
        self._roots = roots
        self._resets = resets  # asked once, when the test first connects
        self._reset = False
        self._connection: sa.Connection | None = None
        self._session: Session | None = None

    # What fixtures and hooks read from a ``Provided``.
    @property
    def provided(self) -> Provided:
        return self._provided

    @property
    def dataset(self) -> Dataset:
        return self._provided.dataset

    @property
    def spec(self) -> ScenarioSpec:
        return self._provided.spec

    @property
    def engine(self) -> sa.Engine:
        return self._provided.engine

    @property
    def counters(self) -> Mapping[str, Any]:
        return self._provided.counters

    def connection(self) -> sa.Connection:
        """The test's connection, inside a transaction that :meth:`close` rolls back.

        With ``demo_reset_sequences``, the key counters are put back first if a test without
        the reset used the database since the last reset (before connecting: MariaDB's ALTER
        TABLE commits and waits for open transactions).
        """
        if self._connection is None:
            self.counters_before_use()
            connection = self._provided.engine.connect()
            connection.begin()
            self._connection = connection
        return self._connection

    def session(self) -> Session:
        """The test's Session, joined to :meth:`connection`'s transaction."""
        if self._session is None:
            self._session = joined_session(self.connection())
        return self._session

    def root(self, session: Session) -> Any:
        """The scenario's root row as an object of ``session``, without a query.

        The row is read once per worker and spec, into a detached object no session owns (so no
        test's writes or rollback can touch it), and merged into each test's session with
        ``load=False``: a persistent object with the row's column values, its relationships
        loaded lazily as ``Session.get`` leaves them. The row is the same at every test's start:
        tests never commit outside their own rolled-back transaction.
        """
        key = self._provided.spec.key
        if key not in self._roots:
            self._roots[key] = _load_root(self._provided)
        template = self._roots[key]
        return None if template is None else session.merge(template, load=False)

    def close(self) -> None:
        """After the test: close its session, roll back and close its connection, whatever the
        test did (committed, left a failed transaction, closed the connection), then put the key
        counters back (``demo_reset_sequences``) or note that they may have moved."""
        connection = self._connection
        if connection is None:
            return
        session, self._session, self._connection = self._session, None, None
        try:
            if session is not None:
                session.close()
        finally:
            try:
                connection.close()  # rolls the transaction back: one ROLLBACK, no pool reset after it
            finally:
                self.counters_after_use()

    def counters_before_use(self) -> None:
        """Before the test first connects (sync or async): with ``demo_reset_sequences``, put the
        key counters back if a test without the reset used the database since the last reset."""
        self._reset = self._resets()
        if self._reset:
            self._provider.reset_counters(self._provided, if_touched=True)

    def counters_after_use(self) -> None:
        """After the test's connection is closed: put the counters back, or note that they may
        have moved (a test without the reset)."""
        if self._reset:
            self._provider.reset_counters(self._provided)
        else:
            self._provider.touched(self._provided)


def _load_root(provided: Provided) -> Any:
    """The spec's root row, detached, with no relationship loaded; None if it has none."""
    model, root_id = provided.spec.scenario.root_model, provided.dataset.root_id
    if model is None:  # demo_root fails before asking
        return None
    with Session(provided.engine) as session:
        root = session.get(model, root_id, options=[lazyload("*")])
        if root is not None:
            session.expunge(root)
    return root
