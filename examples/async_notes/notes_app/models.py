"""The notes app's schema: a workspace, its members, their notebooks and notes with tags."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    """``AsyncAttrs``: ``await obj.awaitable_attrs.name`` loads a relationship under asyncio."""


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    members: Mapped[list[Member]] = relationship(back_populates="workspace", order_by="Member.id")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(sa.ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(120), unique=True)
    workspace: Mapped[Workspace] = relationship(back_populates="members")


class Notebook(Base):
    __tablename__ = "notebooks"
    __table_args__ = (sa.UniqueConstraint("owner_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (sa.UniqueConstraint("notebook_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(sa.ForeignKey("notebooks.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
