"""Each team scenario's story is recognizable in its data; titles mix in 25% sample records."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from statistics import linear_regression, mean

import pytest
import sqlalchemy as sa
from teams_app.models import Developer, PullRequest, Review
from teams_app.scenarios import CLOCK, SAMPLE_TITLES

ai_success = pytest.mark.demo_scenario("teams-ai-success")
review_bottleneck = pytest.mark.demo_scenario("teams-review-bottleneck")
ALL = [
    pytest.param("teams-baseline", id="baseline"),
    pytest.param("teams-ai-success", marks=ai_success, id="ai-success"),
    pytest.param("teams-review-bottleneck", marks=review_bottleneck, id="review-bottleneck"),
]


def weekly(session) -> dict[int, list[PullRequest]]:
    found: dict[int, list[PullRequest]] = defaultdict(list)
    for pr in session.scalars(sa.select(PullRequest).order_by(PullRequest.id)):
        found[pr.week].append(pr)
    return dict(sorted(found.items()))


def ai_shares(session) -> list[float]:
    return [sum(pr.ai_assisted for pr in prs) / len(prs) for prs in weekly(session).values()]


def cycle_means(session) -> list[float]:
    return [mean(pr.cycle_hours for pr in prs) for prs in weekly(session).values()]


def reviewer_shares(session) -> list[float]:
    counts = Counter(session.scalars(sa.select(Review.reviewer_id)))
    total = sum(counts.values())
    return sorted((n / total for n in counts.values()), reverse=True)


@pytest.mark.parametrize("scenario", ALL)
def test_eight_weeks_of_twenty_pull_requests_before_the_clock(demo_session, demo_dataset, scenario):
    assert demo_dataset.scenario == scenario
    weeks = weekly(demo_session)
    assert list(weeks) == list(range(1, 9))
    assert all(len(prs) == 20 for prs in weeks.values())
    for week, prs in weeks.items():
        start = CLOCK - dt.timedelta(weeks=9 - week)
        assert all(start <= pr.opened_at < start + dt.timedelta(weeks=1) for pr in prs)


@pytest.mark.parametrize("scenario", ALL)
def test_reviews_are_by_others_between_opening_and_merging(demo_session, demo_dataset, scenario):
    assert demo_dataset.scenario == scenario
    rows = demo_session.execute(
        sa.select(
            Review.reviewer_id,
            Review.submitted_at,
            PullRequest.author_id,
            PullRequest.opened_at,
            PullRequest.merged_at,
            PullRequest.id,
        ).join(PullRequest)
    ).all()
    assert rows
    assert all(r.reviewer_id != r.author_id for r in rows)
    assert all(r.opened_at <= r.submitted_at <= r.merged_at for r in rows)
    per_pr = Counter(r.id for r in rows)
    assert set(per_pr.values()) <= {1, 2}


@pytest.mark.parametrize("scenario", ALL)
def test_a_quarter_of_titles_come_from_the_sample_records(demo_session, demo_dataset, scenario):
    assert demo_dataset.scenario == scenario
    with SAMPLE_TITLES.open(newline="") as handle:
        samples = {row["title"] for row in csv.DictReader(handle)}
    prs = demo_session.scalars(sa.select(PullRequest)).all()
    sampled = [pr for pr in prs if pr.title_source == "sample"]
    assert len(sampled) == 0.25 * len(prs)
    assert all(pr.title in samples for pr in sampled)
    assert not any(pr.title in samples for pr in prs if pr.title_source == "generated")


@ai_success
def test_ai_success_adoption_rises_every_week_and_cycle_time_falls(demo_session):
    shares = ai_shares(demo_session)
    assert shares[0] == pytest.approx(0.10) and shares[-1] == pytest.approx(0.75)
    assert all(later > earlier for earlier, later in zip(shares, shares[1:], strict=False)), shares
    cycle = cycle_means(demo_session)
    slope = linear_regression(range(len(cycle)), cycle).slope
    assert slope < -4, cycle  # hours a week; the scenario moves 72h -> 30h, about -6h a week
    assert all(cycle[week] < cycle[week - 2] for week in range(2, len(cycle))), cycle
    assert mean(cycle[-2:]) < 0.6 * mean(cycle[:2])


@review_bottleneck
def test_review_bottleneck_one_reviewer_handles_sixty_percent(demo_session):
    shares = reviewer_shares(demo_session)
    assert shares[0] >= 0.60, shares
    busiest = Counter(demo_session.scalars(sa.select(Review.reviewer_id))).most_common(1)[0][0]
    assert demo_session.get(Developer, busiest).is_lead
    assert all(share == pytest.approx(0.70) for share in ai_shares(demo_session))
    cycle = cycle_means(demo_session)
    assert mean(cycle[4:]) > 1.5 * mean(cycle[:4])


def test_baseline_is_steady(demo_session, demo_dataset):
    assert demo_dataset.scenario == "teams-baseline"
    assert all(share == pytest.approx(0.15) for share in ai_shares(demo_session))
    assert all(36 <= hours <= 60 for hours in cycle_means(demo_session))
    assert reviewer_shares(demo_session)[0] < 0.25


def test_demo_root_is_the_team(demo_root):
    assert demo_root.name.endswith(" Team")
    assert len(demo_root.developers) == 8
    assert sum(d.is_lead for d in demo_root.developers) == 1
