"""The app's committing factories inside tests, and the same seed giving the same data."""

from __future__ import annotations

import sqlalchemy as sa
from chat_app.models import Channel, Membership, Message, Reaction, User
from chat_app.scenarios import CHAT_SMALL

from pytest_demoseed import database_fingerprint, seed


def test_a_factory_commit_stays_inside_the_test(demo_session, chat_factories):
    message = chat_factories.MessageFactory(content="hello")
    chat_factories.ReactionFactory(message=message, emoji="tada")
    assert demo_session.scalar(sa.select(sa.func.count(User.id))) == 40 + 2
    assert demo_session.scalar(sa.select(sa.func.count(Message.id)).where(Message.content == "hello")) == 1


def test_the_next_test_sees_the_scenario_as_built(demo_session, demo_dataset):
    assert demo_session.scalar(sa.select(sa.func.count(User.id))) == demo_dataset.counts["users"]
    assert demo_session.scalar(sa.select(sa.func.count(Message.id))) == demo_dataset.counts["messages"]


def test_deleting_a_channel_cascades_and_comes_back_in_the_next_test(demo_session):
    channel = demo_session.scalars(sa.select(Channel).order_by(Channel.id)).first()
    demo_session.delete(channel)
    demo_session.commit()
    assert demo_session.get(Channel, channel.id) is None
    left = demo_session.scalar(sa.select(sa.func.count()).where(Membership.channel_id == channel.id))
    assert left == 0


def test_the_deleted_channel_is_back(demo_session, demo_dataset):
    assert demo_session.scalar(sa.select(sa.func.count(Channel.id))) == demo_dataset.counts["channels"]
    assert demo_session.scalar(sa.select(sa.func.count(Reaction.id))) == demo_dataset.counts["reactions"]


def test_same_seed_same_data(tmp_path):
    first = seed(f"sqlite:///{tmp_path}/a.db", CHAT_SMALL, seed=7, create_schema=True)
    again = seed(f"sqlite:///{tmp_path}/b.db", CHAT_SMALL, seed=7, create_schema=True)
    other = seed(f"sqlite:///{tmp_path}/c.db", CHAT_SMALL, seed=8, create_schema=True)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert database_fingerprint(f"sqlite:///{tmp_path}/a.db", CHAT_SMALL) == first.fingerprint
