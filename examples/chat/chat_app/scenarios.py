"""The ``chat`` scenario: the seed rules of the chat app, as phases over its own models."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterator

from pytest_demoseed import Batch, PhaseContext, Scenario, apportion, phase, spread_times
from pytest_demoseed.settings_kinds import fraction, integer

from .models import EMOJIS, Base

#: The scenario's fixed "now": every timestamp is computed from it, never from the wall clock.
CLOCK = dt.datetime(2026, 3, 1, 12, 0)
HISTORY = dt.timedelta(days=30)
CODE_ALPHABET = string.ascii_uppercase + string.digits


def _quota(share: float, total: int) -> int:
    """Exactly ``share`` of ``total``, rounded: the rule holds for every seed."""
    return apportion([share, 1.0 - share], total)[0] if total else 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".")


@phase("users", tables=("users",), settings={"count": integer(40, "users to create", minimum=2)})
def users_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """users with unique emails, who joined before the chat history starts"""
    ids = ctx.allocate("users", ctx["count"])
    names = [ctx.faker.name() for _ in ids]
    joined = spread_times(ctx.rng, len(ids), CLOCK - 3 * HISTORY, CLOCK - HISTORY)
    rows = [(uid, names[i], f"{_slug(names[i])}.{uid}@chat.example", joined[i]) for i, uid in enumerate(ids)]
    ctx.share("user_ids", list(ids))
    yield Batch("users", ("id", "name", "email", "created_at"), rows)


@phase(
    "channels",
    tables=("channels", "memberships"),
    settings={
        "count": integer(20, "channels to create"),
        "dm_share": fraction(0.3, "share of channels that are direct messages (two members)"),
        "private_share": fraction(0.4, "share of the other channels that are private, with a join code"),
        "max_members": integer(12, "most members of a group channel", minimum=2),
    },
    requires=("users",),
)
def channels_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """channels (direct messages and groups, some private) with their members, owner included"""
    users: list[int] = ctx.need("user_ids", "users")
    rng, count = ctx.rng, ctx["count"]
    dms = _quota(ctx["dm_share"], count)
    kinds = ["dm"] * dms + ["group"] * (count - dms)
    rng.shuffle(kinds)
    groups = [i for i, kind in enumerate(kinds) if kind == "group"]
    private = set(rng.sample(groups, _quota(ctx["private_share"], len(groups))))
    ids = ctx.allocate("channels", count)
    created = spread_times(rng, count, CLOCK - HISTORY - dt.timedelta(days=7), CLOCK - HISTORY)
    channels, members, codes = [], {}, set()
    for i, cid in enumerate(ids):
        owner = rng.choice(users)
        others = [u for u in users if u != owner]
        if kinds[i] == "dm":
            other = rng.choice(others)
            members[cid] = [owner, other]
            channels.append((cid, f"dm-{owner}-{other}", None, owner, True, True, None, created[i]))
            continue
        size = rng.randint(1, min(ctx["max_members"], len(users)) - 1)
        members[cid] = [owner, *rng.sample(others, size)]
        code = None
        if i in private:
            while code is None or code in codes:
                code = "".join(rng.choices(CODE_ALPHABET, k=8))
            codes.add(code)
        name = "-".join(ctx.faker.words(2))
        channels.append(
            (cid, f"{name}-{cid}", ctx.faker.sentence(), owner, i in private, False, code, created[i])
        )
    yield Batch(
        "channels",
        ("id", "name", "description", "owner_id", "is_private", "is_dm", "join_code", "created_at"),
        channels,
    )
    pairs = [(cid, uid) for cid in ids for uid in members[cid]]
    membership_ids = ctx.allocate("memberships", len(pairs))
    yield Batch(
        "memberships",
        ("id", "channel_id", "user_id"),
        [(mid, *pair) for mid, pair in zip(membership_ids, pairs, strict=True)],
    )
    ctx.share("channel_members", members)


@phase(
    "messages",
    tables=("messages",),
    settings={
        "per_channel": integer(20, "messages in each channel", minimum=1),
        "reply_share": fraction(0.2, "share of messages that reply to an earlier one"),
    },
    requires=("channels",),
)
def messages_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """messages written by channel members only; some replies to earlier messages"""
    members: dict[int, list[int]] = ctx.need("channel_members", "channels")
    rng, per_channel = ctx.rng, ctx["per_channel"]
    channels = sorted(members)
    # A channel's first message starts a thread; any later one may be a reply.
    candidates = [(c, k) for c in range(len(channels)) for k in range(1, per_channel)]
    total = len(channels) * per_channel
    replies = set(rng.sample(candidates, min(_quota(ctx["reply_share"], total), len(candidates))))
    ids = iter(ctx.allocate("messages", total))
    rows, made = [], []
    for c, channel_id in enumerate(channels):
        times = spread_times(rng, per_channel, CLOCK - HISTORY, CLOCK)
        threads: list[int] = []
        for k in range(per_channel):
            message_id = next(ids)
            parent = rng.choice(threads) if (c, k) in replies else None
            if parent is None:
                threads.append(message_id)
            text = ctx.faker.sentence() if rng.random() < 0.6 else ctx.faker.paragraph()
            rows.append((message_id, channel_id, rng.choice(members[channel_id]), parent, text, times[k]))
            made.append((message_id, channel_id, times[k]))
    ctx.share("messages", made)
    yield Batch("messages", ("id", "channel_id", "user_id", "parent_id", "content", "created_at"), rows)


@phase(
    "reactions",
    tables=("reactions",),
    settings={
        "message_share": fraction(0.4, "share of messages that get reactions"),
        "max_per_message": integer(3, "most reactions on one message", minimum=1),
    },
    requires=("messages", "channels"),
)
def reactions_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """1 to 3 reactions on some messages, by channel members, never the same emoji twice per user"""
    messages: list[tuple[int, int, dt.datetime]] = ctx.need("messages", "messages")
    members: dict[int, list[int]] = ctx.need("channel_members", "channels")
    rng = ctx.rng
    chosen = sorted(rng.sample(range(len(messages)), _quota(ctx["message_share"], len(messages))))
    rows = []
    for index in chosen:
        message_id, channel_id, sent = messages[index]
        people = members[channel_id]
        options = len(people) * len(EMOJIS)
        for pick in rng.sample(range(options), rng.randint(1, min(ctx["max_per_message"], options))):
            user, emoji = people[pick // len(EMOJIS)], EMOJIS[pick % len(EMOJIS)]
            rows.append((message_id, user, emoji, sent + dt.timedelta(seconds=rng.randint(1, 3600))))
    ids = ctx.allocate("reactions", len(rows))
    yield Batch(
        "reactions",
        ("id", "message_id", "user_id", "emoji", "created_at"),
        [(rid, *row) for rid, row in zip(ids, rows, strict=True)],
    )


CHAT = Scenario(
    name="chat",
    description="40 users, 20 channels (30% direct messages, 40% of the rest private), "
    "20 messages a channel (20% replies), reactions on 40% of messages",
    phases=(users_phase, channels_phase, messages_phase, reactions_phase),
    metadata=Base.metadata,
    clock=CLOCK,
)

CHAT_SMALL = CHAT.derive(
    "chat-small",
    "6 users, 5 channels, 5 messages a channel: for quick unit tests",
    users={"count": 6},
    channels={"count": 5, "max_members": 4},
    messages={"per_channel": 5},
)
