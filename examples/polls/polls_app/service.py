"""The app's vote operations: each keeps ``Option.votes`` equal to the count of vote rows."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import SEED, USER, Option, Vote


def cast_vote(session: Session, option: Option, voter: str, at: dt.datetime) -> Vote:
    """A user's vote: the row and the option's counter, in one unit of work."""
    vote = Vote(option=option, source=USER, voter=voter, created_at=at)
    session.add(vote)
    option.votes += 1
    session.flush()
    return vote


def recount(session: Session) -> None:
    """Set every option's counter from its vote rows, in one statement."""
    counted = sa.select(sa.func.count(Vote.id)).where(Vote.option_id == Option.id).scalar_subquery()
    session.execute(sa.update(Option).values(votes=counted))


def clear_seeded_votes(session: Session) -> int:
    """Delete the seeded votes only (real votes stay) and recount; returns how many went."""
    deleted = session.execute(sa.delete(Vote).where(Vote.source == SEED)).rowcount
    recount(session)
    session.expire_all()
    return int(deleted)
