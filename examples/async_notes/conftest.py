"""Registers the notes scenario and gives tests the service on the test's AsyncSession."""

from __future__ import annotations

import pytest
from notes_app import factories
from notes_app.scenarios import NOTES
from notes_app.service import NoteService

from pytest_demoseed import register

register(NOTES)


@pytest.fixture()
def service(demo_async_session):
    """The service as the app builds it, on the test's session (rolled back after the test)."""
    return NoteService(demo_async_session)


@pytest.fixture()
def bind_factories(demo_async_bind_factories):
    """``await bind_factories()``: the app's factories add to the test's session."""

    async def bind():
        await demo_async_bind_factories(factories)
        return factories

    return bind
