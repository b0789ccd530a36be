"""The chat application's SQLAlchemy models (the code under test; the plugin knows nothing of it)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

EMOJIS = ("thumbsup", "heart", "laughing", "tada", "eyes", "rocket")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(190), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.String(200))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    is_private: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_dm: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    join_code: Mapped[str | None] = mapped_column(sa.String(12), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    owner: Mapped[User] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="channel", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(back_populates="channel", cascade="all, delete-orphan")

    @property
    def member_ids(self) -> set[int]:
        return {m.user_id for m in self.memberships}


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("channel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    channel: Mapped[Channel] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("messages.id"))
    content: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    channel: Mapped[Channel] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
    parent: Mapped[Message | None] = relationship(remote_side=[id])
    reactions: Mapped[list[Reaction]] = relationship(back_populates="message", cascade="all, delete-orphan")


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (sa.UniqueConstraint("message_id", "user_id", "emoji"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    emoji: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    message: Mapped[Message] = relationship(back_populates="reactions")
