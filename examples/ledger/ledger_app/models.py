"""The ledger's SQLAlchemy models. The schema itself is made by the migrations in ``migrations/``:
they also add what the models do not declare (a check constraint, a view, the reference
currencies)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Currency(Base):
    """Reference rows, inserted by a data migration (not by the scenario)."""

    __tablename__ = "currencies"

    code: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    minor_units: Mapped[int] = mapped_column(sa.Integer)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    currency_code: Mapped[str] = mapped_column(sa.ForeignKey("currencies.code"))
    opened_on: Mapped[dt.date] = mapped_column(sa.Date)


class Entry(Base):
    """A posting; the migrations add ``CHECK (amount_cents <> 0)``."""

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.Integer)
    posted_on: Mapped[dt.date] = mapped_column(sa.Date)
    memo: Mapped[str] = mapped_column(sa.String(120))


#: The ``account_balances`` view (made by a migration; read-only, so not a mapped class).
account_balances = sa.table(
    "account_balances",
    sa.column("account_id", sa.Integer),
    sa.column("balance_cents", sa.Integer),
    sa.column("entry_count", sa.Integer),
)
