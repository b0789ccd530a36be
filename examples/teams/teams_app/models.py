"""The metrics app's models: a team, its developers, their pull requests and reviews."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))

    developers: Mapped[list[Developer]] = relationship(back_populates="team", order_by="Developer.id")


class Developer(Base):
    __tablename__ = "developers"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    handle: Mapped[str] = mapped_column(sa.String(60), unique=True)
    is_lead: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    team: Mapped[Team] = relationship(back_populates="developers")


class PullRequest(Base):
    __tablename__ = "pull_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("developers.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    #: ``sample`` when the title came from the bundled sample records, else ``generated``.
    title_source: Mapped[str] = mapped_column(sa.String(10), default="generated")
    week: Mapped[int] = mapped_column(sa.Integer)
    ai_assisted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    opened_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    merged_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    team: Mapped[Team] = relationship()
    author: Mapped[Developer] = relationship()
    reviews: Mapped[list[Review]] = relationship(back_populates="pull_request", cascade="all, delete-orphan")

    @property
    def cycle_hours(self) -> float | None:
        if self.merged_at is None:
            return None
        return (self.merged_at - self.opened_at).total_seconds() / 3600


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(sa.ForeignKey("pull_requests.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("developers.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20))
    submitted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    pull_request: Mapped[PullRequest] = relationship(back_populates="reviews")
    reviewer: Mapped[Developer] = relationship()
