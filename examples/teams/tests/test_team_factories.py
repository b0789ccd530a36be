"""The app's factories, whose ``_create`` commits through the module global ``db.Session``."""

from __future__ import annotations

import sqlalchemy as sa
from teams_app.models import PullRequest, Review
from teams_app.scenarios import AI_SUCCESS

from pytest_demoseed import database_fingerprint, seed


def test_a_committed_review_stays_inside_the_test(demo_session, demo_root, team_factories):
    lead = demo_root.developers[0]
    pr = team_factories.PullRequestFactory(author=demo_root.developers[1], title="Ship it")
    team_factories.ReviewFactory(pull_request=pr, reviewer=lead)
    assert demo_session.scalar(sa.select(sa.func.count(PullRequest.id))) == 161
    assert (
        demo_session.scalar(sa.select(sa.func.count(Review.id)).where(Review.pull_request_id == pr.id)) == 1
    )


def test_the_next_test_sees_160_pull_requests(demo_session):
    assert demo_session.scalar(sa.select(sa.func.count(PullRequest.id))) == 160
    assert (
        demo_session.scalar(sa.select(sa.func.count(PullRequest.id)).where(PullRequest.title == "Ship it"))
        == 0
    )


def test_deleting_a_pull_request_deletes_its_reviews_until_the_test_ends(demo_session):
    pr = demo_session.scalars(sa.select(PullRequest).where(PullRequest.reviews.any())).first()
    demo_session.delete(pr)
    demo_session.commit()
    assert (
        demo_session.scalar(sa.select(sa.func.count(Review.id)).where(Review.pull_request_id == pr.id)) == 0
    )


def test_same_seed_same_weeks(tmp_path):
    first = seed(f"sqlite:///{tmp_path}/a.db", AI_SUCCESS, seed=11, create_schema=True)
    again = seed(f"sqlite:///{tmp_path}/b.db", AI_SUCCESS, seed=11, create_schema=True)
    other = seed(f"sqlite:///{tmp_path}/c.db", AI_SUCCESS, seed=12, create_schema=True)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert database_fingerprint(f"sqlite:///{tmp_path}/a.db", AI_SUCCESS) == first.fingerprint
