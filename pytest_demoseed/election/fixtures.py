"""The election domain's fixtures, ``demo_election`` and ``demo_factories``.

A pytest plugin of its own (the ``pytest11`` entry point ``demoseed-election``), built only on
the generic fixtures (``demo_root``, ``demo_session``) and the public API, as a user's package
would add fixtures for its own domain.

Light, because pytest imports it on every run: the election models and factories (SQLAlchemy,
factory_boy) are imported inside the fixtures' bodies, only by a test that uses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

import pytest_demoseed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pytest_demoseed import Dataset

__all__ = ["DemoFactories", "demo_election", "demo_factories"]


@pytest.fixture()
def demo_election(demo_root: Any) -> Any:
    """The scenario's ``Election``, loaded in ``demo_session``: ready, isolated, reproducible."""
    from pytest_demoseed.election.models import Election  # heavy (SQLAlchemy): only when used

    if not isinstance(demo_root, Election):
        pytest.fail(
            f"demo_election needs an election scenario; this one's root is "
            f"{type(demo_root).__name__} (use demo_root)",
            pytrace=False,
        )
    return demo_root


@dataclass(frozen=True)
class DemoFactories:
    """The election factories, bound to the test's session: ``demo_factories.Party.create()``."""

    Election: Any
    Party: Any
    Candidate: Any
    Committee: Any
    Member: Any
    Elector: Any
    Guarantee: Any
    Attendance: Any


@pytest.fixture()
def demo_factories(
    request: pytest.FixtureRequest, demo_session: Session, demo_dataset: Dataset
) -> Iterator[DemoFactories]:
    """The election factories bound to ``demo_session``, reseeded for this test.

    Their sequences start past the scenario's rows, so unique values never collide with them.
    """
    from pytest_demoseed.election.factories import ALL_FACTORIES  # heavy: only when used

    pytest_demoseed.reseed_factory_boy(demo_dataset.seed, "test", request.node.nodeid)
    factories = ALL_FACTORIES.values()
    with pytest_demoseed.bound_factories(demo_session, *factories, sequences=demo_dataset.sequences):
        yield DemoFactories(**ALL_FACTORIES)
