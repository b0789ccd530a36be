"""The poll scenario's distributions, time window, counters, and clearing only seeded votes."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from polls_app.models import SEED, USER, Option, Vote
from polls_app.scenarios import CLOCK, LANGUAGES, POLLS
from polls_app.service import cast_vote, clear_seeded_votes

from pytest_demoseed import database_fingerprint, seed

DISTRIBUTIONS = [
    pytest.param("polls", id="realistic"),
    pytest.param("polls-random", marks=pytest.mark.demo_scenario("polls-random"), id="random"),
    pytest.param("polls-weighted", marks=pytest.mark.demo_scenario("polls-weighted"), id="weighted"),
]


def counted(session) -> dict[str, tuple[int, int]]:
    """``{option text: (counter, vote rows)}`` in ballot order."""
    rows = session.execute(
        sa.select(Option.text, Option.votes, sa.func.count(Vote.id))
        .outerjoin(Vote, Vote.option_id == Option.id)
        .group_by(Option.id)
        .order_by(Option.position)
    )
    return {text: (counter, n) for text, counter, n in rows}


@pytest.mark.parametrize("scenario", DISTRIBUTIONS)
def test_ten_thousand_votes_over_fifteen_options_with_consistent_counters(
    demo_session, demo_dataset, scenario
):
    assert demo_dataset.scenario == scenario
    counts = counted(demo_session)
    assert len(counts) == 15
    assert sum(n for _, n in counts.values()) == 10_000
    assert all(counter == n for counter, n in counts.values()), counts


@pytest.mark.parametrize("scenario", DISTRIBUTIONS)
def test_votes_fall_in_the_last_24_hours_of_the_scenario_clock(demo_session, scenario):
    first, last = demo_session.execute(
        sa.select(sa.func.min(Vote.created_at), sa.func.max(Vote.created_at))
    ).one()
    assert CLOCK - dt.timedelta(hours=24) <= first <= last < CLOCK
    evening = sa.func.count(Vote.id).filter(Vote.created_at >= CLOCK - dt.timedelta(hours=5))
    night = sa.func.count(Vote.id).filter(Vote.created_at < CLOCK - dt.timedelta(hours=19))
    busy, quiet = demo_session.execute(sa.select(evening, night)).one()
    assert busy > 3 * quiet


def test_realistic_follows_language_popularity(demo_session):
    counts = {text: n for text, (_, n) in counted(demo_session).items()}
    votes = list(counts.values())
    assert votes == sorted(votes, reverse=True)
    exact = 10_000 * 100 / sum(LANGUAGES.values())
    assert abs(counts["Python"] - exact) < 1  # its exact share, for any seed
    assert abs(counts["Python"] - 5 * counts["Haskell"]) <= 5  # 100 : 20


@pytest.mark.demo_scenario("polls-weighted")
def test_weighted_gives_each_option_four_fifths_of_the_one_before(demo_session):
    votes = [n for _, n in counted(demo_session).values()]
    for before, after in zip(votes, votes[1:], strict=False):
        assert abs(after - 0.8 * before) <= 1, votes


@pytest.mark.demo_scenario("polls-random")
def test_random_spreads_votes_evenly_but_not_exactly(demo_session):
    votes = [n for _, n in counted(demo_session).values()]
    assert all(abs(n - 10_000 / 15) < 130 for n in votes), votes  # about 5 standard deviations
    assert len(set(votes)) > 1
    assert votes != sorted(votes, reverse=True)


def test_a_user_vote_keeps_the_counter_in_step(demo_session, demo_root):
    rust = next(o for o in demo_root.options if o.text == "Rust")
    before = rust.votes
    cast_vote(demo_session, rust, "ada", CLOCK)
    demo_session.commit()
    assert counted(demo_session)["Rust"] == (before + 1, before + 1)


def test_clear_removes_only_seeded_votes(demo_session, demo_root):
    go = next(o for o in demo_root.options if o.text == "Go")
    cast_vote(demo_session, go, "grace", CLOCK)
    assert clear_seeded_votes(demo_session) == 10_000
    left = demo_session.execute(sa.select(Vote.source, Vote.voter)).all()
    assert [(v.source, v.voter) for v in left] == [(USER, "grace")]
    counts = counted(demo_session)
    assert counts["Go"] == (1, 1)
    assert all(counts[text] == (0, 0) for text in counts if text != "Go")


def test_the_next_test_has_all_seeded_votes_again(demo_session):
    assert demo_session.scalar(sa.select(sa.func.count(Vote.id)).where(Vote.source == SEED)) == 10_000
    assert demo_session.scalar(sa.select(sa.func.count(Vote.id)).where(Vote.source == USER)) == 0


def test_a_committing_factory_bumps_the_counter_inside_the_test_only(demo_session, demo_root, poll_factories):
    python = demo_root.options[0]
    before = python.votes
    poll_factories.VoteFactory.create_batch(3, option=python)
    assert counted(demo_session)["Python"] == (before + 3, before + 3)
    assert demo_session.scalar(sa.select(sa.func.count(Vote.id))) == 10_003


def test_after_the_factory_test_the_votes_are_as_seeded(demo_session):
    assert demo_session.scalar(sa.select(sa.func.count(Vote.id))) == 10_000
    assert all(counter == n for counter, n in counted(demo_session).values())


def test_same_seed_same_votes(tmp_path):
    small = {"ballot": {"votes": 500}}
    first = seed(f"sqlite:///{tmp_path}/a.db", POLLS, seed=3, settings=small, create_schema=True)
    again = seed(f"sqlite:///{tmp_path}/b.db", POLLS, seed=3, settings=small, create_schema=True)
    other = seed(f"sqlite:///{tmp_path}/c.db", POLLS, seed=4, settings=small, create_schema=True)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert database_fingerprint(f"sqlite:///{tmp_path}/a.db", POLLS) == first.fingerprint
