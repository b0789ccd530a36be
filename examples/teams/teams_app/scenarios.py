"""Weekly progression scenarios: 8 weeks of pull requests and reviews, each with its own story.

``teams-ai-success``: AI-assisted pull requests grow from 10% to 75% and cycle time falls.
``teams-review-bottleneck``: one reviewer handles 60% of reviews and cycle time grows.
``teams-baseline``: a steady team to compare against.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from pathlib import Path

from pytest_demoseed import (
    Batch,
    PhaseContext,
    SamplePool,
    Scenario,
    apportion,
    phase,
    progression,
    spread_times,
)
from pytest_demoseed.settings_kinds import choice, fraction, integer

from .models import Base, Team

CLOCK = dt.datetime(2026, 3, 2, 9, 0)  # a Monday morning: the last of the weeks just ended
SAMPLE_TITLES = Path(__file__).parent / "data" / "pr_titles.csv"
VERBS = ("Add", "Fix", "Refactor", "Remove", "Speed up", "Document", "Test", "Simplify")
THINGS = (
    "retry logic",
    "cache layer",
    "export job",
    "search filters",
    "billing page",
    "audit log",
    "user invites",
    "rate limiter",
    "CSV import",
    "feature flags",
    "session handling",
)
PLACES = ("api", "dashboard", "worker", "mobile app", "admin", "CLI", "scheduler")


def _quota(share: float, total: int) -> int:
    return apportion([share, 1.0 - share], total)[0] if total else 0


@phase("team", tables=("teams", "developers"), settings={"developers": integer(8, "developers", minimum=3)})
def team_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """the team and its developers; the first one is the lead"""
    (team_id,) = ctx.allocate("teams", 1)
    yield Batch("teams", ("id", "name"), [(team_id, f"{ctx.faker.color_name()} Team")])
    ids = list(ctx.allocate("developers", ctx["developers"]))
    names = [ctx.faker.name() for _ in ids]
    handles = [f"{name.split()[0].lower()}{did}" for name, did in zip(names, ids, strict=True)]
    rows = [(did, team_id, names[i], handles[i], i == 0) for i, did in enumerate(ids)]
    yield Batch("developers", ("id", "team_id", "name", "handle", "is_lead"), rows)
    ctx.share("team_id", team_id)
    ctx.share("developer_ids", ids)


def _generated_title(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(THINGS)} in {rng.choice(PLACES)}"


@phase(
    "pull_requests",
    tables=("pull_requests",),
    settings={
        "weeks": integer(8, "weeks of history before the scenario clock", minimum=1),
        "per_week": integer(20, "pull requests opened each week", minimum=1),
        "ai_start": fraction(0.15, "share of AI-assisted pull requests in the first week"),
        "ai_end": fraction(0.15, "share of AI-assisted pull requests in the last week"),
        "cycle_start": integer(48, "typical hours from open to merge in the first week", minimum=1),
        "cycle_end": integer(48, "typical hours from open to merge in the last week", minimum=1),
        "curve": choice("linear", ("linear", "ease-in", "ease-out"), "how the weekly values move"),
        "sample_share": fraction(0.25, "share of titles taken from the bundled sample records"),
    },
    requires=("team",),
)
def pull_requests_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """pull requests week by week, their AI share and cycle time following a progression"""
    team_id, developers = ctx.need("team_id", "team"), ctx.need("developer_ids", "team")
    rng, weeks, per_week = ctx.rng, ctx["weeks"], ctx["per_week"]
    ai_share = progression(ctx["ai_start"], ctx["ai_end"], weeks, ctx["curve"])
    cycle = progression(ctx["cycle_start"], ctx["cycle_end"], weeks, ctx["curve"])
    pool = SamplePool.from_file(SAMPLE_TITLES, ctx["sample_share"], field="title")
    titles = pool.draw(rng, weeks * per_week, _generated_title)
    ids = iter(ctx.allocate("pull_requests", weeks * per_week))
    rows, made = [], []
    for week in range(weeks):
        start = CLOCK - dt.timedelta(weeks=weeks - week)
        opened = spread_times(rng, per_week, start, start + dt.timedelta(days=5))
        assisted = set(rng.sample(range(per_week), _quota(ai_share[week], per_week)))
        for k in range(per_week):
            pr_id, title = next(ids), titles[week * per_week + k]
            merged = opened[k] + dt.timedelta(hours=cycle[week] * rng.uniform(0.75, 1.25))
            merged = merged.replace(microsecond=0)
            author = rng.choice(developers)
            source = "sample" if pool.is_real(title) else "generated"
            rows.append((pr_id, team_id, author, title, source, week + 1, k in assisted, opened[k], merged))
            made.append((pr_id, author, opened[k], merged))
    ctx.share("pull_requests", made)
    columns = (
        "id",
        "team_id",
        "author_id",
        "title",
        "title_source",
        "week",
        "ai_assisted",
        "opened_at",
        "merged_at",
    )
    yield Batch("pull_requests", columns, rows)


@phase(
    "reviews",
    tables=("reviews",),
    settings={
        "second_review_share": fraction(0.5, "share of pull requests that get a second review"),
        "bottleneck_share": fraction(0.0, "share of all reviews the lead handles (0: spread evenly)"),
    },
    requires=("pull_requests",),
)
def reviews_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """one or two reviews a pull request, never by its author, between opening and merging"""
    prs, developers = ctx.need("pull_requests", "pull_requests"), ctx.need("developer_ids", "team")
    rng, lead = ctx.rng, developers[0]
    seconds = set(rng.sample(range(len(prs)), _quota(ctx["second_review_share"], len(prs))))
    slots = [(i, 0) for i in range(len(prs))] + [(i, 1) for i in sorted(seconds)]
    slots.sort()
    by_lead: set[tuple[int, int]] = set()
    if ctx["bottleneck_share"] > 0:
        eligible = [s for s in slots if s[1] == 0 and prs[s[0]][1] != lead]
        wanted = math.ceil(ctx["bottleneck_share"] * len(slots))
        by_lead = set(rng.sample(eligible, min(wanted, len(eligible))))
    others = [d for d in developers if d != lead] if by_lead else developers
    rows, reviewer_of = [], {}
    for pr, second in slots:
        pr_id, author, opened, merged = prs[pr]
        if (pr, second) in by_lead:
            reviewer = lead
        else:
            taken = {author, reviewer_of.get(pr)}
            reviewer = rng.choice([d for d in others if d not in taken])
        reviewer_of[pr] = reviewer
        when = opened + (merged - opened) * (0.4 + 0.5 * second + rng.uniform(0, 0.1))
        state = "approved" if second or pr not in seconds else rng.choice(("changes_requested", "commented"))
        rows.append((pr_id, reviewer, state, when.replace(microsecond=0)))
    ids = ctx.allocate("reviews", len(rows))
    yield Batch(
        "reviews",
        ("id", "pull_request_id", "reviewer_id", "state", "submitted_at"),
        [(rid, *row) for rid, row in zip(ids, rows, strict=True)],
    )


BASELINE = Scenario(
    name="teams-baseline",
    description="8 developers, 8 weeks x 20 pull requests: 15% AI-assisted, ~48h cycle time, "
    "reviews spread evenly",
    phases=(team_phase, pull_requests_phase, reviews_phase),
    metadata=Base.metadata,
    clock=CLOCK,
    root_model=Team,
    root_key="team_id",
)

AI_SUCCESS = BASELINE.derive(
    "teams-ai-success",
    "AI-assisted pull requests rise from 10% to 75% over 8 weeks while cycle time falls from 72h to 30h",
    pull_requests={"ai_start": 0.10, "ai_end": 0.75, "cycle_start": 72, "cycle_end": 30},
)

REVIEW_BOTTLENECK = BASELINE.derive(
    "teams-review-bottleneck",
    "the lead handles 60% of reviews; AI use steady at 70%; cycle time grows from 36h to 80h",
    pull_requests={"ai_start": 0.70, "ai_end": 0.70, "cycle_start": 36, "cycle_end": 80},
    reviews={"bottleneck_share": 0.6, "second_review_share": 0.2},
)

SCENARIOS = (BASELINE, AI_SUCCESS, REVIEW_BOTTLENECK)
