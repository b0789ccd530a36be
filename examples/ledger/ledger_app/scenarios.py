"""The ``ledger`` scenario: accounts in the currencies the migrations put there, and their entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa

from pytest_demoseed import Batch, PhaseContext, Scenario, phase
from pytest_demoseed.settings_kinds import integer

from .models import Base, Currency

#: The scenario's fixed "now": every date is computed from it, never from the wall clock.
CLOCK = dt.datetime(2026, 3, 1, 12, 0)


@phase("accounts", tables=("accounts",), settings={"count": integer(12, "accounts to open", minimum=1)})
def accounts_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """accounts, each in one of the currencies the data migration inserted"""
    codes = list(ctx.conn.execute(sa.select(Currency.code).order_by(Currency.code)).scalars())
    ids = ctx.allocate("accounts", ctx["count"])
    rows = [
        (
            aid,
            f"{ctx.faker.last_name()} {ctx.rng.choice(['current', 'savings', 'travel'])}",
            codes[i % len(codes)],
            (CLOCK - dt.timedelta(days=ctx.rng.randint(60, 900))).date(),
        )
        for i, aid in enumerate(ids)
    ]
    ctx.share("account_ids", list(ids))
    yield Batch("accounts", ("id", "name", "currency_code", "opened_on"), rows)


@phase(
    "entries",
    tables=("entries",),
    settings={"per_account": integer(8, "entries per account", minimum=1)},
    requires=("accounts",),
)
def entries_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """credits and debits, never zero (the migrated schema has a check constraint for it)"""
    accounts: list[int] = ctx.need("account_ids", "accounts")
    rows = []
    for account in accounts:
        for _ in range(ctx["per_account"]):
            cents = ctx.rng.randint(100, 250_000) * ctx.rng.choice((1, -1))
            day = (CLOCK - dt.timedelta(days=ctx.rng.randint(1, 59))).date()
            rows.append((account, cents, day, ctx.faker.bs()[:120]))
    ids = ctx.allocate("entries", len(rows))
    yield Batch(
        "entries",
        ("id", "account_id", "amount_cents", "posted_on", "memo"),
        [(eid, *row) for eid, row in zip(ids, rows, strict=True)],
    )


LEDGER = Scenario(
    name="ledger",
    description="12 accounts in the migrated reference currencies, 8 entries each",
    phases=(accounts_phase, entries_phase),
    metadata=Base.metadata,
    clock=CLOCK,
)
