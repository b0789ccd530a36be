"""The ``polls`` scenario: a poll with 15 options and 10,000 seeded votes over the last 24 hours."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from pytest_demoseed import Batch, PhaseContext, Scenario, apportion, choose_parents, phase, spread_times
from pytest_demoseed.settings_kinds import choice, integer, text

from .models import SEED, Base, Poll

CLOCK = dt.datetime(2026, 3, 1, 12, 0)
#: Options in the order they are shown, with the popularity the ``realistic`` distribution uses.
LANGUAGES = {
    "Python": 100, "JavaScript": 90, "Java": 80, "TypeScript": 75, "Go": 70, "Rust": 65,
    "C++": 60, "C#": 55, "Ruby": 50, "PHP": 45, "Swift": 40, "Kotlin": 35, "Scala": 30,
    "Elixir": 25, "Haskell": 20,
}  # fmt: skip
#: Relative votes per hour of the window, oldest first: quiet nights, busy evenings.
HOURLY = (2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 6, 6, 7, 7, 6, 6, 7, 8, 9, 10, 9, 7, 5, 3)
BATCH = 5_000


@phase("poll", tables=("polls",), settings={"question": text("Favourite programming language?")})
def poll_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """the poll"""
    (poll_id,) = ctx.allocate("polls", 1)
    ctx.share("poll_id", poll_id)
    yield Batch(
        "polls", ("id", "question", "created_at"), [(poll_id, ctx["question"], CLOCK - dt.timedelta(days=2))]
    )


def vote_counts(ctx: PhaseContext, distribution: str, options: int, votes: int) -> list[int]:
    """Votes per option, in option order: exact shares by popularity (``realistic``) or by
    0.8 to the power of the position (``weighted``), or uniform random draws (``random``)."""
    if distribution == "realistic":
        return apportion([LANGUAGES[name] for name in list(LANGUAGES)[:options]], votes)
    if distribution == "weighted":
        return apportion([0.8**i for i in range(options)], votes)
    drawn = Counter(choose_parents(ctx.rng, range(options), votes, "random"))
    return [drawn[i] for i in range(options)]


@phase(
    "ballot",
    tables=("options", "votes"),
    settings={
        "options": integer(15, "options on the ballot", minimum=2, maximum=len(LANGUAGES)),
        "votes": integer(10_000, "seeded votes"),
        "distribution": choice(
            "realistic", ("realistic", "random", "weighted"), "how votes spread over options"
        ),
        "hours": integer(24, "votes fall in this many hours before the scenario clock", minimum=1),
    },
    requires=("poll",),
)
def ballot_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """the options with their counters, then the seeded votes behind them"""
    poll_id = ctx.need("poll_id", "poll")
    counts = vote_counts(ctx, ctx["distribution"], ctx["options"], ctx["votes"])
    option_ids = list(ctx.allocate("options", ctx["options"]))
    names = list(LANGUAGES)
    yield Batch(
        "options",
        ("id", "poll_id", "text", "position", "votes"),
        [(oid, poll_id, names[i], i + 1, counts[i]) for i, oid in enumerate(option_ids)],
    )
    chosen = [oid for oid, n in zip(option_ids, counts, strict=True) for _ in range(n)]
    ctx.rng.shuffle(chosen)
    times = spread_times(ctx.rng, len(chosen), CLOCK - dt.timedelta(hours=ctx["hours"]), CLOCK, HOURLY)
    vote_ids = ctx.allocate("votes", len(chosen))
    for start in range(0, len(chosen), BATCH):
        yield Batch(
            "votes",
            ("id", "option_id", "source", "voter", "created_at"),
            [
                (vote_ids[i], chosen[i], SEED, None, times[i])
                for i in range(start, min(start + BATCH, len(chosen)))
            ],
        )
    ctx.progress(options=len(option_ids), votes=len(chosen))


POLLS = Scenario(
    name="polls",
    description="a poll with 15 options and 10,000 seeded votes over the last 24 hours "
    "(ballot.distribution realistic|random|weighted)",
    phases=(poll_phase, ballot_phase),
    metadata=Base.metadata,
    clock=CLOCK,
    root_model=Poll,
    root_key="poll_id",
)
POLLS_RANDOM = POLLS.derive(
    "polls-random", "votes spread uniformly at random", ballot={"distribution": "random"}
)
POLLS_WEIGHTED = POLLS.derive(
    "polls-weighted", "each option gets 0.8x the votes of the one before", ballot={"distribution": "weighted"}
)
