"""The metrics app's factories: their ``_create`` reads the module global ``db.Session``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from . import db, models

NOW = dt.datetime(2026, 3, 2, 9, 0)


class _Base(factory.Factory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        session = db.Session()
        obj = model_class(*args, **kwargs)
        session.add(obj)
        session.commit()
        return obj


class TeamFactory(_Base):
    class Meta:
        model = models.Team

    name = factory.Sequence(lambda n: f"Team {n + 1}")


class DeveloperFactory(_Base):
    class Meta:
        model = models.Developer

    team = factory.SubFactory(TeamFactory)
    name = factory.Faker("name")
    handle = factory.Sequence(lambda n: f"dev-{n + 1}")


class PullRequestFactory(_Base):
    class Meta:
        model = models.PullRequest

    author = factory.SubFactory(DeveloperFactory)
    team = factory.SelfAttribute("author.team")
    title = factory.Faker("sentence", nb_words=5)
    week = 8
    opened_at = NOW - dt.timedelta(days=2)
    merged_at = NOW


class ReviewFactory(_Base):
    class Meta:
        model = models.Review

    pull_request = factory.SubFactory(PullRequestFactory)
    reviewer = factory.SubFactory(DeveloperFactory)
    state = "approved"
    submitted_at = NOW - dt.timedelta(days=1)
