"""The poll app's factories, bound through ``sqlalchemy_session_factory`` and committing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from . import db, models

NOW = dt.datetime(2026, 3, 1, 12, 0)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.SessionLocal()  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class PollFactory(_Base):
    class Meta:
        model = models.Poll

    question = factory.Sequence(lambda n: f"Question {n + 1}?")
    created_at = NOW


class OptionFactory(_Base):
    class Meta:
        model = models.Option

    poll = factory.SubFactory(PollFactory)
    text = factory.Sequence(lambda n: f"Option {n + 1}")
    position = factory.Sequence(lambda n: n + 1)
    votes = 0


class VoteFactory(_Base):
    """A user's vote; it bumps its option's counter, as the app's ``cast_vote`` does."""

    class Meta:
        model = models.Vote

    option = factory.SubFactory(OptionFactory)
    source = models.USER
    voter = factory.Sequence(lambda n: f"voter-{n + 1}")
    created_at = NOW

    @classmethod
    def _save(cls, model_class: type, session: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        kwargs["option"].votes += 1
        return super()._save(model_class, session, args, kwargs)
