"""The poll application's models. ``Option.votes`` is a denormalised count of its vote rows."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Vote sources: seeded demo votes can be told apart from real ones and cleared alone.
SEED, USER = "seed", "user"


class Base(DeclarativeBase):
    pass


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    options: Mapped[list[Option]] = relationship(back_populates="poll", order_by="Option.position")


class Option(Base):
    __tablename__ = "options"
    __table_args__ = (sa.UniqueConstraint("poll_id", "text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id"), index=True)
    text: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(sa.Integer)
    votes: Mapped[int] = mapped_column(sa.Integer, default=0)

    poll: Mapped[Poll] = relationship(back_populates="options")


class Vote(Base):
    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("options.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(8), default=USER, index=True)
    voter: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    option: Mapped[Option] = relationship()
