"""The chat app's factory_boy factories, bound at runtime through ``_meta.sqlalchemy_session``.

The app sets the session on each factory when it starts (``bind(session)``); tests bind them to
the test's session with the plugin's ``demo_bind_factories`` fixture instead. They commit, like
the app's own seed script did; inside a test a commit only releases a SAVEPOINT.
"""

from __future__ import annotations

import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory

from . import models

NOW = dt.datetime(2026, 3, 1, 12, 0)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = None  # set at runtime
        sqlalchemy_session_persistence = "commit"


class UserFactory(_Base):
    class Meta:
        model = models.User

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"user.{n + 1}@factory.example")
    created_at = NOW


class ChannelFactory(_Base):
    class Meta:
        model = models.Channel

    name = factory.Sequence(lambda n: f"channel-{n + 1}")
    description = factory.Faker("sentence")
    owner = factory.SubFactory(UserFactory)
    created_at = NOW


class MembershipFactory(_Base):
    class Meta:
        model = models.Membership

    channel = factory.SubFactory(ChannelFactory)
    user = factory.SubFactory(UserFactory)


class MessageFactory(_Base):
    class Meta:
        model = models.Message

    channel = factory.SubFactory(ChannelFactory)
    author = factory.SubFactory(UserFactory)
    content = factory.Faker("sentence")
    created_at = NOW


class ReactionFactory(_Base):
    class Meta:
        model = models.Reaction

    message = factory.SubFactory(MessageFactory)
    user_id = factory.SelfAttribute("message.author.id")
    emoji = "heart"
    created_at = NOW
