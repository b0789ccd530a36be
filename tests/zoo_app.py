"""A schema zoo: the column types, keys and defaults real applications use, with their factories
and a scenario built from them. A plain module, so a pytester project can copy it as its own app.

What each table holds:
``accounts``: a string primary key made by a ``Sequence``, ``TypeDecorator``s with and without
their own ``None`` handling, native and non-native ``Enum``, ``JSON``, ``Numeric``, ``Boolean``,
``Date``, ``DateTime`` with a time zone, a Python scalar default, a Python default that reads the
row, a ``server_default``, a column named ``order``. ``clubs``/``memberships``: many-to-many
through an association table with a composite primary key. ``sessions``: a UUID primary key,
``Interval``, ``LargeBinary``, ``Time`` with and without a time zone, a string foreign key.
``messages``: a self-referential foreign key (replies). On PostgreSQL ``audit.entries`` lives in
a schema of its own (``SCHEMA_METADATA``) and has an ``ARRAY`` column. ``accounts.extra`` is a
``PickleType``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import factory
import sqlalchemy as sa
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pytest_demoseed import Batch, Scenario, factory_batches, phase

UTC = dt.timezone.utc


class CompactDate(sa.TypeDecorator[dt.date]):
    """A date kept as ``YYYYMMDD`` text; ``None`` stays NULL (the type's own None handling)."""

    impl = sa.String(8)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):  # the application also accepts the text form
            return value
        return str(value.strftime("%Y%m%d"))

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.date | None:
        return None if value is None else dt.datetime.strptime(value, "%Y%m%d").date()


class BlankText(sa.TypeDecorator[str]):
    """Text where ``None`` is stored as ``''`` (a DICOM-style "empty" value)."""

    impl = sa.String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str:
        return "" if value is None else str(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str:
        return value or ""


class Tier(enum.Enum):
    basic = "basic"
    gold = "gold"


class Status(enum.Enum):
    open = "open"
    closed = "closed"


class Base(DeclarativeBase):
    pass


memberships = sa.Table(
    "memberships",
    Base.metadata,
    sa.Column("account_code", sa.ForeignKey("accounts.code"), primary_key=True),
    sa.Column("club_id", sa.ForeignKey("clubs.id"), primary_key=True),
    sa.Column("joined", sa.Date, nullable=False, default=dt.date(2026, 1, 15)),
)


def _slug(context: Any) -> str:
    return str(context.get_current_parameters()["code"]).lower()


class Account(Base):
    __tablename__ = "accounts"
    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    born: Mapped[dt.date | None] = mapped_column(CompactDate)
    title: Mapped[str | None] = mapped_column(BlankText)
    tier: Mapped[Tier] = mapped_column(sa.Enum(Tier, name="tier"))
    status: Mapped[Status] = mapped_column(sa.Enum(Status, native_enum=False, length=10))
    settings: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    balance: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))
    active: Mapped[bool] = mapped_column(sa.Boolean)
    seen_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    plan: Mapped[str] = mapped_column(sa.String(10), default="free")
    slug: Mapped[str] = mapped_column(sa.String(12), default=_slug)
    region: Mapped[str] = mapped_column(sa.String(8), server_default="eu")
    order: Mapped[int] = mapped_column("order", sa.Integer)
    extra: Mapped[Any] = mapped_column(sa.PickleType, nullable=True)

    clubs: Mapped[list[Club]] = relationship(secondary=memberships, back_populates="accounts")


class Club(Base):
    __tablename__ = "clubs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    accounts: Mapped[list[Account]] = relationship(secondary=memberships, back_populates="clubs")


class Session(Base):
    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    account_code: Mapped[str] = mapped_column(sa.ForeignKey("accounts.code"))
    length: Mapped[dt.timedelta] = mapped_column(sa.Interval)
    token: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    starts: Mapped[dt.time] = mapped_column(sa.Time)
    starts_utc: Mapped[dt.time | None] = mapped_column(sa.Time(timezone=True))


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    reply_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id"))
    account_code: Mapped[str] = mapped_column(sa.ForeignKey("accounts.code"))
    body: Mapped[str] = mapped_column(sa.Text)
    replies: Mapped[list[Message]] = relationship(back_populates="reply_to")
    reply_to: Mapped[Message | None] = relationship(back_populates="replies", remote_side=[id])


#: PostgreSQL only: a table in a schema of its own, made by the metadata's own DDL hook (what an
#: application does for its schemas).
SCHEMA_METADATA = sa.MetaData()
sa.event.listen(SCHEMA_METADATA, "before_create", sa.DDL("CREATE SCHEMA IF NOT EXISTS audit"))
entries = sa.Table(
    "entries",
    SCHEMA_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("what", sa.String(40), nullable=False),
    sa.Column("tags", postgresql.ARRAY(sa.String(10))),
    schema="audit",
)


# --- factories ---------------------------------------------------------------------------------


class AccountFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Account
        sqlalchemy_session_persistence = "flush"

    code = factory.Sequence(lambda n: f"AC{n:05d}")
    name = factory.Faker("name")
    born = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    title = None
    tier = factory.Iterator([Tier.basic, Tier.gold, Tier.basic])
    status = factory.Iterator([Status.open, Status.closed])
    settings = factory.LazyAttribute(lambda o: {"theme": "dark", "code": o.code, "tags": ["a", "b"]})
    balance = factory.Iterator(
        [decimal.Decimal("10.50"), decimal.Decimal("0.00"), decimal.Decimal("1234.56")]
    )
    active = factory.Iterator([True, False])
    seen_at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    order = factory.Sequence(lambda n: n)
    extra = factory.LazyAttribute(lambda o: ("pickled", o.order))


class ClubFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Club
        sqlalchemy_session_persistence = "flush"

    name = factory.Sequence(lambda n: f"club {n}")


class SessionFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Session
        sqlalchemy_session_persistence = "flush"

    id = factory.LazyFunction(uuid.uuid4)
    account_code = "AC00000"
    length = factory.Iterator([dt.timedelta(minutes=30), dt.timedelta(hours=2, seconds=5)])
    token = factory.Sequence(lambda n: n.to_bytes(4, "big") * 8)
    starts = factory.Iterator([dt.time(9, 0), dt.time(17, 45, 30)])
    starts_utc = dt.time(8, 0, tzinfo=UTC)


class MessageFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Message
        sqlalchemy_session_persistence = "flush"

    reply_to = None
    account_code = "AC00000"
    body = factory.Faker("sentence")


# --- the scenario --------------------------------------------------------------------------------

ACCOUNTS = 40
CLUBS = 4


@phase("accounts", tables=["accounts", "clubs", "memberships"])
def make_accounts(ctx: Any) -> Any:
    codes = yield from factory_batches(ctx, AccountFactory, ACCOUNTS, fixed={"title": None})
    yield from factory_batches(
        ctx, AccountFactory, 2, fixed={"title": "Dr", "born": "19991231", "settings": None}
    )
    clubs = yield from factory_batches(ctx, ClubFactory, CLUBS)
    joined = dt.date(2026, 1, 15)
    yield Batch(
        "memberships",
        ("account_code", "club_id", "joined"),
        [(code, clubs[i % CLUBS], joined) for i, code in enumerate(codes)],
    )
    ctx.share("account_codes", list(codes))


@phase("activity", tables=["sessions", "messages"], requires=["accounts"])
def make_activity(ctx: Any) -> Any:
    codes = ctx.need("account_codes", "accounts")
    ids = [uuid.UUID(int=ctx.rng.getrandbits(128), version=4) for _ in range(60)]
    yield from factory_batches(
        ctx,
        SessionFactory,
        len(ids),
        ids=ids,
        fixed={"account_code": [codes[i % len(codes)] for i in range(60)]},
    )
    roots = yield from factory_batches(ctx, MessageFactory, 20, fixed={"account_code": codes[0]})
    yield from factory_batches(
        ctx,
        MessageFactory,
        40,
        fixed={"reply_to_id": [roots[i % len(roots)] for i in range(40)], "account_code": codes[1]},
    )


ZOO = Scenario(
    name="zoo",
    description="every column type, key and default the zoo has",
    metadata=Base.metadata,
    phases=[make_accounts, make_activity],
)


@phase("entries", tables=["audit.entries"])
def make_entries(ctx: Any) -> Any:
    yield Batch(
        "audit.entries", ("id", "what"), [(i, f"entry {i}") for i in ctx.allocate("audit.entries", 25)]
    )


#: PostgreSQL only: the schema-qualified table.
ZOO_SCHEMA = Scenario(
    name="zoo-schema",
    description="a table in its own schema",
    metadata=SCHEMA_METADATA,
    phases=[make_entries],
)
