"""Each built-in scenario's pattern, and the election domain's rules, asserted through demo_session."""

from __future__ import annotations

import pytest
from conftest import Inner
from summary import summary_fingerprints

RULES = '''
import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import (
    Attendance, Candidate, Committee, Election, Elector, Guarantee, Member, Party,
)


def count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def counts(session):
    return {
        m.__tablename__: count(session, m)
        for m in (Election, Party, Candidate, Committee, Member, Elector, Guarantee, Attendance)
    }


def no_duplicates(values):
    values = list(values)
    dupes = [v for v, n in Counter(values).items() if n > 1]
    assert not dupes, dupes[:5]


def check_rules(session, election):
    """Every domain rule of the issue, for whichever scenario the test has."""
    assert count(session, Election) == 1
    parties = session.scalars(sa.select(Party)).all()
    assert all(p.election_id == election.id for p in parties)
    no_duplicates(p.number for p in parties)
    no_duplicates(p.color for p in parties)
    assert all(len(p.color) == 7 and p.color[0] == "#" and int(p.color[1:], 16) >= 0 for p in parties)
    candidates = session.scalars(sa.select(Candidate)).all()
    no_duplicates(c.number for c in candidates)
    assert all(c.party_id is None or c.party.election_id == election.id for c in candidates)
    committees = session.scalars(sa.select(Committee)).all()
    no_duplicates(c.code for c in committees)
    members = session.scalars(sa.select(Member)).all()
    no_duplicates(m.email for m in members)
    assert all("@" in m.email for m in members)
    electors = session.scalars(sa.select(Elector)).all()
    no_duplicates(e.national_id for e in electors)
    assert all(e.committee_id is not None for e in electors)
    assert {e.gender for e in electors} <= {"F", "M"}
    day = election.election_date
    for e in electors:
        age = (day - e.birth_date).days / 365.25
        assert 18 <= age <= 91, (e, age)
    guarantees = session.scalars(sa.select(Guarantee)).all()
    no_duplicates(g.elector_id for g in guarantees)
    assert all(g.party_id is not None for g in guarantees)
    assert {g.group for g in guarantees} <= {"strong", "medium", "weak"}
    assert all(g.member_id is not None for g in guarantees)
    committee_of = {e.id: e.committee_id for e in electors}
    attendances = session.scalars(sa.select(Attendance)).all()
    no_duplicates(a.elector_id for a in attendances)
    opening = dt.datetime.combine(day, dt.time(8))
    closing = dt.datetime.combine(day, dt.time(20))
    for a in attendances:
        assert a.committee_id == committee_of[a.elector_id], a
        assert a.attended_at.tzinfo is None
        assert opening <= a.attended_at < closing, a.attended_at
    return counts(session)
'''


def _scenario_file(inner: Inner, body: str) -> None:
    inner.pytester.makepyfile(rules=RULES)
    inner.test_file(
        "from demohelp import dump\nfrom rules import check_rules, count, counts\n"
        "import pytest\nimport sqlalchemy as sa\n"
        "from pytest_demoseed.election.models import *\n" + body
    )


def test_baseline_small_and_empty_have_their_exact_counts_and_keep_every_rule(inner: Inner) -> None:
    _scenario_file(
        inner,
        """
def test_baseline(demo_session, demo_election, demo_dataset):
    found = check_rules(demo_session, demo_election)
    assert found == {
        "elections": 1, "parties": 4, "candidates": 14, "committees": 8, "members": 15,
        "electors": 2000, "guarantees": 300, "attendances": 1500,
    }
    assert dict(demo_dataset.counts) == found
    independents = demo_session.scalars(sa.select(Candidate).where(Candidate.party_id.is_(None))).all()
    assert len(independents) == 2
    for party in demo_election.parties:
        assert len(party.candidates) == 3
    assert sorted(p.number for p in demo_election.parties) == [1, 2, 3, 4]
    assert sorted(c.number for c in demo_election.candidates) == list(range(1, 15))
    members = demo_session.scalars(sa.select(Member)).all()
    assert all(m.committee_id is not None for m in members)
    assert {m.committee_id for m in members} == {c.id for c in demo_election.committees}
    per_member = {m.id: len(m.guarantees) for m in members}
    assert set(per_member.values()) == {20}
    assert demo_election.turnout() == 0.75
    assert demo_dataset.settings["guarantees"]["batch_size"] == 100

@pytest.mark.demo_scenario("small")
def test_small(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found == {
        "elections": 1, "parties": 2, "candidates": 4, "committees": 2, "members": 3,
        "electors": 50, "guarantees": 15, "attendances": 25,
    }
    assert all(c.party_id is not None for c in demo_election.candidates)
    assert all(m.committee_id is not None for m in demo_election.members)
    assert demo_election.turnout() == 0.5

@pytest.mark.demo_scenario("empty")
def test_empty(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found == {
        "elections": 1, "parties": 0, "candidates": 0, "committees": 0, "members": 0,
        "electors": 0, "guarantees": 0, "attendances": 0,
    }
    assert demo_election.turnout() == 0.0
    assert demo_election.guarantee_shares() == {}
""",
    )
    result = inner.pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    assert {scenario for scenario, _ in summary_fingerprints(result)} == {"baseline", "small", "empty"}


def test_landslide_close_race_and_low_turnout_patterns_hold(inner: Inner) -> None:
    _scenario_file(
        inner,
        """
def shares(election):
    return sorted(election.guarantee_shares().values(), reverse=True)

@pytest.mark.demo_scenario("landslide")
def test_landslide(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found["guarantees"] == 300 and found["parties"] == 4
    top = shares(demo_election)
    assert top[0] >= 0.60, top
    assert abs(sum(top) - 1.0) < 1e-9

@pytest.mark.demo_scenario("close-race")
def test_close_race(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found["guarantees"] == 300
    top = shares(demo_election)
    assert top[0] - top[1] <= 0.02, top
    assert top[1] > top[2], top

@pytest.mark.demo_scenario("low-turnout")
def test_low_turnout(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found["electors"] == 2000
    assert 0.15 <= demo_election.turnout() <= 0.25

def test_baseline_is_not_a_landslide(demo_session, demo_election):
    top = shares(demo_election)
    assert top[0] < 0.60, top
""",
    )
    result = inner.pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scenario_patterns_hold_for_other_seeds(inner: Inner, seed: int) -> None:
    _scenario_file(
        inner,
        """
@pytest.mark.demo_scenario("landslide")
def test_landslide(demo_session, demo_election):
    check_rules(demo_session, demo_election)
    assert max(demo_election.guarantee_shares().values()) >= 0.60

@pytest.mark.demo_scenario("close-race")
def test_close_race(demo_session, demo_election):
    top = sorted(demo_election.guarantee_shares().values(), reverse=True)
    assert top[0] - top[1] <= 0.02

@pytest.mark.demo_scenario("low-turnout")
def test_low_turnout(demo_session, demo_election):
    assert 0.15 <= demo_election.turnout() <= 0.25
""",
    )
    result = inner.pytester.runpytest("-p", "no:randomly", f"--demo-seed={seed}")
    result.assert_outcomes(passed=3)


def test_large_scaled_down_with_demo_set_keeps_its_shape(inner: Inner) -> None:
    _scenario_file(
        inner,
        """
def test_large(demo_session, demo_election, demo_dataset):
    found = check_rules(demo_session, demo_election)
    assert demo_dataset.scenario == "large"
    assert found["parties"] == 20
    independents = demo_dataset.settings["parties"]["independent_candidates"]
    party_candidates = count(demo_session, Candidate) - independents
    assert party_candidates == 200
    assert all(len(p.candidates) == 10 for p in demo_election.parties)
    assert found["committees"] == 50
    assert found["electors"] == 4000
    assert found["members"] == 100
    assert found["guarantees"] == 2000
    assert found["attendances"] == 2800
    assert demo_dataset.settings["guarantees"]["batch_size"] == 10_000
""",
    )
    result = inner.pytester.runpytest(
        "-p",
        "no:randomly",
        "--demo-scenario=large",
        "--demo-set=committees.count=50",
        "--demo-set=electors.count=4000",
        "--demo-set=members.count=100",
    )
    result.assert_outcomes(passed=1)


def test_large_defaults_add_up_to_about_a_million_rows() -> None:
    from pytest_demoseed.scenario.registry import get_scenario

    d = get_scenario("large").defaults()
    parties = d["parties"]["count"]
    candidates = parties * d["parties"]["candidates_per_party"] + d["parties"]["independent_candidates"]
    electors = d["electors"]["count"]
    members = d["members"]["count"]
    guarantees = min(members * d["guarantees"]["per_member"], electors)
    attendances = round(d["attendance"]["rate"] * electors)
    assert (parties, d["parties"]["candidates_per_party"]) == (20, 10)
    assert d["committees"]["count"] == 500
    assert (electors, members, guarantees, attendances) == (500_000, 5_000, 100_000, 350_000)
    total = (
        1 + parties + candidates + d["committees"]["count"] + electors + members + guarantees + attendances
    )
    assert 900_000 <= total <= 1_100_000


def test_guarantee_settings_shape_the_rows(inner: Inner) -> None:
    _scenario_file(
        inner,
        """
@pytest.mark.demo_scenario(
    "small",
    guarantees={"total_limit": 7, "group_distribution": "even", "party_weights": "3,1", "batch_size": 2},
)
def test_limited(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found["guarantees"] == 7
    groups = sorted(g.group for g in demo_election.guarantees)
    assert sorted(set(groups)) == ["medium", "strong", "weak"]
    assert max(groups.count(g) for g in set(groups)) - min(groups.count(g) for g in set(groups)) <= 1
    by_party = sorted(demo_election.guarantee_shares().values())
    assert [round(s * 7) for s in by_party] == [2, 5]

@pytest.mark.demo_scenario("small", guarantees={"per_member": 100})
def test_never_more_than_one_per_elector(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found["guarantees"] == 50

@pytest.mark.demo_scenario("small", members={"assign_to_committees": False, "count": 4})
def test_members_without_committees(demo_session, demo_election):
    check_rules(demo_session, demo_election)
    assert [m.committee_id for m in demo_election.members] == [None] * 4

@pytest.mark.demo_scenario("small", attendance={"rate": 1.0})
def test_everyone_votes(demo_session, demo_election):
    assert check_rules(demo_session, demo_election)["attendances"] == 50
    assert demo_election.turnout() == 1.0
""",
    )
    result = inner.pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)


def test_disabling_a_leaf_phase_leaves_the_rest(inner: Inner) -> None:
    _scenario_file(
        inner,
        """
@pytest.mark.demo_scenario("small", attendance={"enabled": False}, guarantees={"enabled": False})
def test_no_attendance(demo_session, demo_election):
    found = check_rules(demo_session, demo_election)
    assert found["attendances"] == 0 and found["guarantees"] == 0
    assert found["electors"] == 50 and found["members"] == 3
""",
    )
    inner.pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
