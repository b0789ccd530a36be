"""The demo_scenario marker: on a test, class or module; each distinct spec gets its own database."""

from __future__ import annotations

from conftest import Inner, assert_usage_error
from summary import read_summary, summary_fingerprints

HEAD = """
import pytest
import sqlalchemy as sa
from demohelp import dump
from pytest_demoseed.election.models import Attendance, Elector, Party

def n(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))
"""


def test_each_scenario_in_one_run_sees_only_its_own_rows(inner: Inner) -> None:
    inner.test_file(
        HEAD
        + """
def test_default(demo_session, demo_dataset):
    assert demo_dataset.scenario == "baseline"
    assert n(demo_session, Elector) == 2000

@pytest.mark.demo_scenario("small")
def test_small(demo_session, demo_dataset, demo_engine):
    assert demo_dataset.scenario == "small"
    assert n(demo_session, Elector) == 50
    # demo_engine is the run's default scenario, not the marker's
    with demo_engine.connect() as conn:
        assert conn.scalar(sa.text("select count(*) from electors")) == 2000

@pytest.mark.demo_scenario("empty")
def test_empty(demo_session, demo_connection):
    assert n(demo_session, Elector) == 0
    assert demo_connection.scalar(sa.text("select count(*) from elections")) == 1

def test_default_again(demo_session):
    assert n(demo_session, Elector) == 2000
"""
    )
    result = inner.pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)
    assert set(summary_fingerprints(result)) == {("baseline", 42), ("small", 42), ("empty", 42)}


def test_marker_seed_and_settings_override_the_run(inner: Inner) -> None:
    inner.test_file(
        HEAD
        + """
@pytest.mark.demo_scenario("small", seed=7)
def test_seed(request, demo_dataset, demo_seed):
    assert demo_dataset.seed == 7 and demo_seed == 7
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("small", attendance={"rate": 0.2}, electors={"count": 40})
def test_settings(demo_session, demo_election, demo_dataset):
    assert demo_dataset.seed == 3
    assert n(demo_session, Elector) == 40
    assert n(demo_session, Attendance) == 8
    assert demo_dataset.settings["attendance"]["rate"] == 0.2

@pytest.mark.demo_scenario(parties={"count": 3})
def test_settings_on_the_run_scenario(demo_session, demo_dataset):
    assert demo_dataset.scenario == "small"
    assert n(demo_session, Party) == 3

def test_unmarked(request, demo_dataset):
    assert (demo_dataset.scenario, demo_dataset.seed) == ("small", 3)
    dump(request, demo_dataset)
"""
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=3")
    result.assert_outcomes(passed=4)
    d = inner.by_test()
    assert d["test_seed"]["fingerprint"] != d["test_unmarked"]["fingerprint"]
    assert ("small", 7) in summary_fingerprints(result)


def test_marker_settings_merge_over_demo_set_options(inner: Inner) -> None:
    inner.test_file(
        HEAD
        + """
@pytest.mark.demo_scenario("small", attendance={"rate": 0.2})
def test_marked(demo_session, demo_dataset):
    # --demo-set electors.count=40 applies to every spec; the marker's own key wins over the option
    assert n(demo_session, Elector) == 40
    assert n(demo_session, Attendance) == 8

def test_plain(demo_session):
    assert n(demo_session, Elector) == 40
    assert n(demo_session, Attendance) == 40
"""
    )
    result = inner.pytester.runpytest(
        "-p",
        "no:randomly",
        "--demo-scenario=small",
        "--demo-set=electors.count=40",
        "--demo-set=attendance.rate=1.0",
    )
    result.assert_outcomes(passed=2)


def test_class_and_module_markers_apply_and_the_closest_wins(inner: Inner) -> None:
    inner.test_file(
        HEAD
        + """
pytestmark = pytest.mark.demo_scenario("small")

def test_module_level(demo_dataset):
    assert demo_dataset.scenario == "small"

@pytest.mark.demo_scenario("empty")
class TestEmpty:
    def test_class_level(self, demo_session, demo_dataset):
        assert demo_dataset.scenario == "empty"
        assert n(demo_session, Elector) == 0

    @pytest.mark.demo_scenario("small", seed=9)
    def test_method_level(self, demo_dataset):
        assert (demo_dataset.scenario, demo_dataset.seed) == ("small", 9)
"""
    )
    inner.pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_equal_specs_share_one_build_and_database(inner: Inner) -> None:
    inner.test_file(
        HEAD
        + """
@pytest.mark.demo_scenario("small", attendance={"rate": 0.5})
def test_spelled_out(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("small")
def test_plain(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("small", seed=42)
def test_default_seed(request, demo_dataset):
    dump(request, demo_dataset)
"""
    )
    result = inner.pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    d = inner.by_test()
    assert (
        d["test_spelled_out"]["spec_key"] == d["test_plain"]["spec_key"] == d["test_default_seed"]["spec_key"]
    )
    assert d["test_spelled_out"]["database"] == d["test_plain"]["database"]
    # one dataset in the summary: built once
    assert list(summary_fingerprints(result)) == [("small", 42)]
    assert [s.worker for s in read_summary(result).all_sources() if s.source == "built"] == ["main"]


def test_distinct_specs_get_sibling_databases_named_from_the_url(inner: Inner) -> None:
    url = f"sqlite:///{inner.pytester.path}/demo.db"
    inner.test_file(
        HEAD
        + """
def test_default(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("small", seed=1)
def test_other(request, demo_dataset):
    dump(request, demo_dataset)
"""
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", f"--demo-db-url={url}")
    result.assert_outcomes(passed=2)
    d = inner.by_test()
    assert d["test_default"]["database"] == url
    other = d["test_other"]["database"]
    assert other.startswith(f"sqlite:///{inner.pytester.path}/demo_") and other.endswith(".db")
    assert other != url
    assert any(other in (s.database or "") for s in read_summary(result).all_sources())


def test_demo_election_and_demo_root_are_the_scenario_root(inner: Inner) -> None:
    inner.test_file(
        HEAD
        + """
from pytest_demoseed.election.models import Election

@pytest.mark.demo_scenario("small")
def test_root(demo_election, demo_root, demo_session, demo_dataset):
    assert demo_election is demo_root
    assert isinstance(demo_election, Election)
    assert demo_election.id == demo_dataset.root_id
    assert demo_election.name == "Demo General Election"
    assert str(demo_election.election_date) == "2026-03-01"
    assert demo_session.get(Election, demo_election.id) is demo_election

@pytest.mark.demo_scenario("small", election={"name": "Spring Vote"})
def test_election_name(demo_election):
    assert demo_election.name == "Spring Vote"
"""
    )
    inner.pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_dotted_key_gets_the_marker_form_and_a_bad_reset_marker_is_named(inner: Inner) -> None:
    """``**{"electors.count": 5}`` is the ``--demo-set`` spelling: the hint rewrites it in the
    marker's form, every key given; ``demo_reset_sequences`` takes True or False."""
    inner.test_file(
        HEAD
        + """
@pytest.mark.demo_scenario("small", **{"electors.count": 5, "electors.enabled": True, "attendance.rate": 0.5})
def test_dotted(demo_dataset):
    pass
"""
    )
    line = assert_usage_error(
        inner.pytester.runpytest("-p", "no:randomly"),
        "test_inner.py::test_dotted",
        'write electors={"count": 5, "enabled": True}, attendance={"rate": 0.5}',
        "'electors.count'",
    )
    assert "electors.count={" not in line  # the old hint's nonsense form
    inner.test_file(
        HEAD
        + """
@pytest.mark.demo_reset_sequences("yes")
def test_reset(demo_dataset):
    pass
"""
    )
    assert_usage_error(
        inner.pytester.runpytest("-p", "no:randomly"),
        "test_inner.py::test_reset",
        "demo_reset_sequences takes True or False, got 'yes'",
    )
