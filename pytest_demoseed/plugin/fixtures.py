"""The fixtures users request: a ready scenario per test, isolated by a rolled-back transaction.

Light: pytest imports this module with the plugin on every run, so it imports no SQLAlchemy,
Faker or factory_boy (the annotations name them only for type checkers). A fixture's body
activates the run and reaches the heavy helpers through :mod:`pytest_demoseed.plugin.runtime`,
imported inside the body for lightness (a run that requests no demo fixture never loads it), not
to dodge an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from pytest_demoseed.plugin.run import demo_run

if TYPE_CHECKING:
    import sqlalchemy as sa
    from faker import Faker
    from sqlalchemy.orm import Session

    from pytest_demoseed.build.dataset import Dataset
    from pytest_demoseed.plugin.runtime import PerTest
    from pytest_demoseed.plugin.settings import DemoSettings
    from pytest_demoseed.plugin.state import DemoState
    from pytest_demoseed.storage.provider import DatabaseProvider

__all__ = [
    "demo_bind_factories",
    "demo_connection",
    "demo_dataset",
    "demo_engine",
    "demo_faker",
    "demo_metadata",
    "demo_root",
    "demo_seed",
    "demo_session",
    "demo_settings",
]

#: Every fixture this module defines: a test that uses one (directly or through another
#: fixture) makes the plugin activate at collection time.
FIXTURE_NAMES = frozenset({*__all__, "_demo_provider", "_demo_provided"})


def _state(config: pytest.Config) -> DemoState:
    return demo_run(config).activate()


@pytest.fixture(scope="session")
def demo_settings(pytestconfig: pytest.Config) -> DemoSettings:
    """The run's resolved demoseed settings: seed, scenario, database URL, ``overrides`` (the
    ``demo_set`` values, typed by the scenario's setting kinds) and ``phases`` (every setting
    of the run's scenario, typed)."""
    return _state(pytestconfig).settings


@pytest.fixture(scope="session")
def demo_metadata(demo_settings: DemoSettings) -> sa.MetaData | None:
    """Extra metadata to create in test databases (ini ``demo_metadata``); override to change it.

    Its tables are created alongside the scenario's own, so a scenario over part of an
    application still gets the application's whole schema.
    """
    from pytest_demoseed.plugin import runtime  # the heavy half, for lightness (see above)

    if demo_settings.metadata_path:
        return runtime.load_metadata(demo_settings.metadata_path)
    return None


@pytest.fixture(scope="session")
def _demo_provider(
    pytestconfig: pytest.Config, demo_metadata: sa.MetaData | None
) -> Iterator[DatabaseProvider]:
    state = _state(pytestconfig)
    provider = state.make_provider(demo_metadata)
    try:
        yield provider
    finally:
        state.record(provider)
        provider.close()


#: Per worker (this process's run): each spec's root row, read once, detached (``PerTest.root``).
_ROOTS = pytest.StashKey[dict[str, Any]]()


@pytest.fixture()
def _demo_provided(request: pytest.FixtureRequest, _demo_provider: DatabaseProvider) -> Iterator[PerTest]:
    """The one per-test fixture under every demo fixture: the test's data and, once a fixture
    asks for it, its connection and session, rolled back and closed after the test."""
    from pytest_demoseed.plugin import runtime  # the heavy half, for lightness (see above)

    config = request.config
    state = _state(config)
    roots = config.stash.setdefault(_ROOTS, {})
    node = request.node
    per_test = runtime.PerTest(
        state.provide_for(node, _demo_provider), _demo_provider, roots, lambda: state.resets_sequences(node)
    )
    try:
        yield per_test
    finally:
        per_test.close()


@pytest.fixture(scope="session")
def demo_engine(pytestconfig: pytest.Config, _demo_provider: DatabaseProvider) -> sa.Engine:
    """The engine of this worker's database holding the run's default scenario."""
    state = _state(pytestconfig)
    return state.provide(_demo_provider, state.default_spec).engine


@pytest.fixture()
def demo_dataset(_demo_provided: PerTest) -> Dataset:
    """What the test's scenario (its marker's, or the run's) holds: counts, fingerprint, timings."""
    return _demo_provided.dataset


@pytest.fixture()
def demo_seed(_demo_provided: PerTest) -> int:
    """The root seed of the test's scenario."""
    return _demo_provided.dataset.seed


@pytest.fixture()
def demo_connection(_demo_provided: PerTest) -> sa.Connection:
    """A connection inside a transaction that is rolled back after the test, whatever it did.

    With ``demo_reset_sequences`` (marker or ini) the key counters, which a rollback does not
    restore on PostgreSQL and MariaDB, are put back as the snapshot had them before the test
    (if a test without the reset ran since the last reset) and after it, once its transaction
    is rolled back and its connection closed (MariaDB's ALTER TABLE commits and waits for open
    transactions).
    """
    return _demo_provided.connection()


@pytest.fixture()
def demo_session(_demo_provided: PerTest) -> Session:
    """A Session joined to the test's transaction: ``commit()`` only releases a SAVEPOINT.

    The test may commit, roll back and nest; the outer transaction is rolled back at the end,
    so the next test sees the scenario exactly as built. It shares ``demo_connection``'s
    connection; its SAVEPOINT begins when the test first uses it.
    """
    return _demo_provided.session()


@pytest.fixture()
def demo_root(demo_session: Session, _demo_provided: PerTest) -> Any:
    """The scenario's main object (its ``root_model`` row), an object of ``demo_session``.

    Its row is read once per worker and merged into each test's session without a query; its
    relationships load lazily, as after ``Session.get``.
    """
    dataset, scenario = _demo_provided.dataset, _demo_provided.spec.scenario
    if scenario.root_model is None or dataset.root_id is None:
        pytest.fail(f"scenario {scenario.name!r} declares no root model to load", pytrace=False)
    return _demo_provided.root(demo_session)


@pytest.fixture()
def demo_faker(request: pytest.FixtureRequest, _demo_provided: PerTest) -> Faker:
    """A Faker seeded from the root seed and the test's node id: the same values in any order."""
    from pytest_demoseed.plugin import runtime  # the heavy half, for lightness (see above)

    locale = _demo_provided.spec.scenario.locale
    return runtime.seeded_faker(_demo_provided.dataset.seed, "test", request.node.nodeid, locale=locale)


BindFactories = Callable[..., None]


@pytest.fixture()
def demo_bind_factories(
    request: pytest.FixtureRequest, demo_session: Session, _demo_provided: PerTest
) -> Iterator[BindFactories]:
    """Bind your own factories to ``demo_session`` for this test: ``demo_bind_factories(f1, f2)``.

    Takes factory classes or modules (every concrete factory they define), and
    ``module_globals=[(module, "NAME")]`` for factories whose ``_create`` reads a module's
    session global. Works with ``sqlalchemy_session_persistence="commit"``: commits only release
    the test's SAVEPOINT. Bindings are undone after the test; factory_boy is reseeded per test.
    """
    from pytest_demoseed.plugin import runtime  # the heavy half, for lightness (see above)

    runtime.reseed_factory_boy(_demo_provided.dataset.seed, "test", request.node.nodeid)
    with ExitStack() as stack:

        def bind(
            *factories: type | ModuleType,
            module_globals: Sequence[tuple[ModuleType, str]] = (),
        ) -> None:
            stack.enter_context(
                runtime.bound_factories(
                    demo_session,
                    *factories,
                    module_globals=module_globals,
                    sequences=_demo_provided.dataset.sequences,
                )
            )

        yield bind
