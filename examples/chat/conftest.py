"""Registers the chat scenarios with pytest-demoseed and binds the app's factories per test."""

from __future__ import annotations

import pytest
from chat_app import factories
from chat_app.scenarios import CHAT, CHAT_SMALL

from pytest_demoseed import register

register(CHAT)
register(CHAT_SMALL)


@pytest.fixture()
def chat_factories(demo_bind_factories):
    """The app's factories, committing into the test's session (rolled back after the test)."""
    demo_bind_factories(factories)
    return factories
