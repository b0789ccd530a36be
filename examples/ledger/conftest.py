"""Registers the ledger scenario with pytest-demoseed (the schema comes from pytest.ini's demo_alembic)."""

from __future__ import annotations

from ledger_app.scenarios import LEDGER

from pytest_demoseed import register

register(LEDGER)
