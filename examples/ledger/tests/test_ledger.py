"""The migrated schema as the tests see it: the data migration's rows, the view, the check
constraint, the scenario's rows on top, and the revision the database is at."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from ledger_app.models import Account, Currency, Entry, account_balances


def test_reference_currencies_come_from_the_data_migration(demo_session, demo_dataset):
    codes = demo_session.scalars(sa.select(Currency.code).order_by(Currency.code)).all()
    assert codes == ["CHF", "EUR", "JPY", "USD"]
    # counted apart from the scenario's rows, and part of the fingerprint
    assert demo_dataset.extra["migrated"]["counts"] == {"currencies": 4}
    assert demo_dataset.counts["currencies"] == 0


def test_every_account_uses_a_migrated_currency(demo_session, demo_dataset):
    used = set(demo_session.scalars(sa.select(Account.currency_code)))
    assert used == {"CHF", "EUR", "JPY", "USD"}
    assert demo_dataset.counts["accounts"] == 12 and demo_dataset.counts["entries"] == 96


def test_the_view_made_by_a_migration_sums_the_entries(demo_session):
    view = {row.account_id: row.balance_cents for row in demo_session.execute(sa.select(account_balances))}
    sums = demo_session.execute(
        sa.select(Entry.account_id, sa.func.sum(Entry.amount_cents)).group_by(Entry.account_id)
    )
    assert view == {account: total for account, total in sums}
    assert len(view) == 12


def test_the_check_constraint_made_by_a_migration_holds(demo_session):
    demo_session.add(
        Entry(
            id=10_000,
            account_id=1,
            amount_cents=0,
            posted_on=dt.date(2026, 2, 1),
            memo="zero",
        )
    )
    with pytest.raises(sa.exc.DBAPIError):  # IntegrityError; OperationalError on MariaDB
        demo_session.flush()


def test_the_database_is_at_the_head_revision(demo_connection):
    assert demo_connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
