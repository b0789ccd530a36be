"""Each seed rule of the chat app, asserted on the ``chat`` scenario through ``demo_session``."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from chat_app.models import Channel, Membership, Message, Reaction, User


def members_of(session):
    found: dict[int, set[int]] = {}
    for channel_id, user_id in session.execute(sa.select(Membership.channel_id, Membership.user_id)):
        found.setdefault(channel_id, set()).add(user_id)
    return found


def test_counts(demo_dataset):
    assert demo_dataset.counts["users"] == 40
    assert demo_dataset.counts["channels"] == 20
    assert demo_dataset.counts["messages"] == 400


def test_thirty_percent_of_channels_are_direct_messages_with_two_members(demo_session):
    channels = demo_session.scalars(sa.select(Channel)).all()
    dms = [c for c in channels if c.is_dm]
    assert len(dms) == round(0.3 * len(channels))
    members = members_of(demo_session)
    for dm in dms:
        assert len(members[dm.id]) == 2, dm.name
        assert dm.is_private and dm.join_code is None and dm.description is None


def test_owner_is_always_a_member(demo_session):
    members = members_of(demo_session)
    for channel in demo_session.scalars(sa.select(Channel)):
        assert channel.owner_id in members[channel.id], channel.name


def test_group_channels_have_two_members_or_more(demo_session):
    members = members_of(demo_session)
    for channel in demo_session.scalars(sa.select(Channel).where(Channel.is_dm.is_(False))):
        assert len(members[channel.id]) >= 2


def test_forty_percent_of_other_channels_are_private_with_a_join_code(demo_session):
    groups = demo_session.scalars(sa.select(Channel).where(Channel.is_dm.is_(False))).all()
    private = [c for c in groups if c.is_private]
    assert len(private) == round(0.4 * len(groups))
    assert all(c.join_code and len(c.join_code) == 8 for c in private)
    assert all(c.join_code is None for c in groups if not c.is_private)


def test_messages_come_only_from_members(demo_session):
    members = members_of(demo_session)
    for channel_id, user_id in demo_session.execute(sa.select(Message.channel_id, Message.user_id)):
        assert user_id in members[channel_id]


def test_twenty_percent_of_messages_are_replies_to_earlier_messages_in_the_channel(demo_session):
    messages = {m.id: m for m in demo_session.scalars(sa.select(Message))}
    replies = [m for m in messages.values() if m.parent_id is not None]
    assert len(replies) == round(0.2 * len(messages))
    for reply in replies:
        parent = messages[reply.parent_id]
        assert parent.channel_id == reply.channel_id
        assert parent.created_at <= reply.created_at
        assert parent.parent_id is None  # replies go to a thread's first message


def test_reactions_on_forty_percent_of_messages_by_members_without_duplicates(demo_session):
    total = demo_session.scalar(sa.select(sa.func.count(Message.id)))
    reactions = demo_session.execute(
        sa.select(Reaction.message_id, Reaction.user_id, Reaction.emoji, Message.channel_id).join(Message)
    ).all()
    per_message = Counter(r.message_id for r in reactions)
    assert len(per_message) == round(0.4 * total)
    assert set(per_message.values()) <= {1, 2, 3}
    duplicates = Counter((r.message_id, r.user_id, r.emoji) for r in reactions)
    assert max(duplicates.values()) == 1
    members = members_of(demo_session)
    assert all(r.user_id in members[r.channel_id] for r in reactions)


@pytest.mark.demo_scenario("chat-small", channels={"count": 10, "dm_share": 0.5})
def test_settings_change_the_shares(demo_session, demo_dataset):
    assert demo_dataset.scenario == "chat-small"
    assert demo_session.scalar(sa.select(sa.func.count(User.id))) == 6
    dms = demo_session.scalar(sa.select(sa.func.count(Channel.id)).where(Channel.is_dm.is_(True)))
    assert dms == 5
