"""What a run reports: the header line, the demoseed summary, built/cloned per worker, kept files."""

from __future__ import annotations

import re

import pytest
from conftest import Inner
from summary import header, read_summary, summary_fingerprints, summary_sources

RECORD = """
import pytest
from demohelp import dump

@pytest.mark.parametrize("n", range({n}))
def test_record(request, n, demo_dataset):
    dump(request, demo_dataset)
"""


def _section(result: pytest.RunResult) -> list[str]:
    section = read_summary(result).section
    assert section is not None, result.outlines
    return section


def test_header_shows_scenario_seed_and_database(inner: Inner) -> None:
    inner.test_file(RECORD.format(n=1))
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=5")
    result.assert_outcomes(passed=1)
    assert header(result) == {
        "scenario": "small",
        "seed": "5",
        "database": "sqlite (a file in pytest's base temp dir)",
    }


def test_summary_shows_fingerprint_rows_per_table_and_phase_times(inner: Inner) -> None:
    inner.test_file(RECORD.format(n=1))
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small")
    result.assert_outcomes(passed=1)
    data = inner.by_test()["test_record[0]"]
    section = _section(result)
    assert section[0] == f"small seed=42 fingerprint={data['fingerprint']} (102 rows)"
    assert section[1] == (
        "  rows: attendances 25, candidates 4, committees 2, elections 1, electors 50, guarantees 15, "
        "members 3, parties 2"
    )
    assert re.match(
        r"^  phases: election 1 row [\d.]+s, parties 6 rows [\d.]+s, committees 2 rows [\d.]+s, "
        r"electors 50 rows [\d.]+s, members 3 rows [\d.]+s, guarantees 15 rows [\d.]+s, "
        r"attendance 25 rows [\d.]+s$",
        section[2],
    ), section[2]
    assert summary_sources(result) == [("main", "built")]
    assert data["source"] == "built"
    assert set(data["phase_seconds"]) == {
        "election",
        "parties",
        "committees",
        "electors",
        "members",
        "guarantees",
        "attendance",
    }


def test_no_summary_section_when_no_test_uses_the_data(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert read_summary(result).section is None
    # the header still says which data a test would get
    assert header(result)["scenario"] == "baseline"


def test_with_two_workers_one_builds_and_the_other_clones_the_same_data(inner: Inner) -> None:
    inner.test_file(RECORD.format(n=10))
    result = inner.pytester.runpytest("-p", "no:randomly", "-p", "xdist", "-n", "2", "--demo-scenario=small")
    result.assert_outcomes(passed=10)
    dumps = inner.dumps()
    by_worker = {d["worker"]: d for d in dumps.values()}
    assert set(by_worker) == {"gw0", "gw1"}
    assert by_worker["gw0"]["fingerprint"] == by_worker["gw1"]["fingerprint"]
    assert by_worker["gw0"]["table_fingerprints"] == by_worker["gw1"]["table_fingerprints"]
    assert sorted(d["source"] for d in by_worker.values()) == ["built", "cloned"]
    assert by_worker["gw0"]["database"] != by_worker["gw1"]["database"]
    assert sorted(summary_sources(result)) in (
        [("gw0", "built"), ("gw1", "cloned")],
        [("gw0", "cloned"), ("gw1", "built")],
    )
    assert list(summary_fingerprints(result).values()) == [by_worker["gw0"]["fingerprint"]]
    sources = read_summary(result).all_sources()
    for worker, data in by_worker.items():
        assert data["database"].endswith(f"_{worker}.sqlite")
        assert any(s.worker == worker and data["database"] in (s.database or "") for s in sources), worker


def test_with_two_workers_every_marker_spec_is_built_once(inner: Inner) -> None:
    inner.test_file(
        """
import pytest
from demohelp import dump

@pytest.mark.parametrize("n", range(6))
@pytest.mark.demo_scenario("small", seed=1)
def test_one(request, n, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.parametrize("n", range(6))
@pytest.mark.demo_scenario("empty")
def test_two(request, n, demo_dataset):
    dump(request, demo_dataset)
"""
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "-p", "xdist", "-n", "2", "--dist=each")
    result.assert_outcomes(passed=24)
    sources = summary_sources(result)
    assert sorted(s for _, s in sources) == ["built", "built", "cloned", "cloned"]
    assert set(summary_fingerprints(result)) == {("small", 1), ("empty", 42)}


def test_databases_are_removed_after_the_run_unless_kept(inner: Inner) -> None:
    inner.test_file(RECORD.format(n=1))
    url = f"sqlite:///{inner.pytester.path}/demo.db"
    inner.pytester.runpytest(
        "-p", "no:randomly", "--demo-scenario=small", f"--demo-db-url={url}"
    ).assert_outcomes(passed=1)
    assert not (inner.pytester.path / "demo.db").exists()
    inner.pytester.runpytest(
        "-p", "no:randomly", "--demo-scenario=small", f"--demo-db-url={url}", "--demo-keep"
    ).assert_outcomes(passed=1)
    assert (inner.pytester.path / "demo.db").stat().st_size > 0


def test_reuse_keeps_the_snapshot_and_the_next_run_clones_it(inner: Inner) -> None:
    inner.test_file(RECORD.format(n=1))
    cache = inner.pytester.path / "snapshots"
    args = ("-p", "no:randomly", "--demo-scenario=small", "--demo-reuse", f"--demo-cache-dir={cache}")
    first = inner.pytester.runpytest(*args)
    first.assert_outcomes(passed=1)
    assert summary_sources(first) == [("main", "built")]
    assert list(cache.glob("*.sqlite"))
    second = inner.pytester.runpytest(*args)
    second.assert_outcomes(passed=1)
    assert summary_sources(second) == [("main", "cloned")]
    assert summary_fingerprints(first) == summary_fingerprints(second)
    third = inner.pytester.runpytest(*args, "--demo-rebuild")
    third.assert_outcomes(passed=1)
    assert summary_sources(third) == [("main", "built")]
    assert summary_fingerprints(third) == summary_fingerprints(first)


def test_without_reuse_no_snapshot_is_left_behind(inner: Inner) -> None:
    inner.test_file(RECORD.format(n=1))
    inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small").assert_outcomes(passed=1)
    basetemp = inner.pytester.path.parent / "basetemp"
    assert not list(basetemp.rglob("*.sqlite"))


def test_a_spec_that_cannot_be_built_fails_its_tests_in_one_line_and_others_pass(inner: Inner) -> None:
    inner.pytester.makeconftest(
        """
import sqlalchemy as sa
from pytest_demoseed import Scenario, ScenarioError, phase, register

@phase("towns", tables=("towns",))
def towns(ctx):
    # valid settings, but the build itself finds something it cannot do
    raise ScenarioError("no committee office in this town")
    yield

register(Scenario("broken-town", (towns,), sa.MetaData()))
"""
    )
    inner.test_file(
        """
import pytest

@pytest.mark.demo_scenario("broken-town")
def test_one(demo_dataset):
    pass

@pytest.mark.demo_scenario("broken-town")
def test_two(demo_session):
    pass

def test_plain(demo_dataset):
    assert demo_dataset.counts["committees"] == 2
"""
    )
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*demoseed: cannot build scenario 'broken-town': *committee office*"])
    assert "Traceback" not in result.stdout.str()


POLLS_CONFTEST = """
import sqlalchemy as sa
from pytest_demoseed import Batch, Scenario, phase, register
from pytest_demoseed.settings_kinds import fraction, integer, text

metadata = sa.MetaData()
sa.Table("polls", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("question", sa.String(80)))
sa.Table("votes", metadata, sa.Column("id", sa.Integer, primary_key=True),
         sa.Column("poll_id", sa.ForeignKey("polls.id")))
# same metadata, never written by the scenario: not listed in its summary
sa.Table("archive", metadata, sa.Column("id", sa.Integer, primary_key=True))


@phase("polls", tables=("polls",), settings={"count": integer(3, minimum=1), "title": text("Poll")})
def polls(ctx):
    ids = ctx.allocate("polls", ctx["count"])
    ctx.share("poll_ids", list(ids))
    yield Batch("polls", ("id", "question"), [(i, f"{ctx['title']} {i}") for i in ids])


@phase("votes", tables=("votes",), requires=("polls",),
       settings={"count": integer(100), "share": fraction(0.5)})
def votes(ctx):
    parents = ctx.need("poll_ids", "polls")
    ids = ctx.allocate("votes", round(ctx["count"] * ctx["share"] * 2))
    yield Batch("votes", ("id", "poll_id"), [(i, parents[i % len(parents)]) for i in ids])


register(Scenario("polls", (polls, votes), metadata))
"""


def test_summary_headers_show_overrides_and_list_only_the_scenarios_tables(inner: Inner) -> None:
    """Specs of one scenario and seed that differ by settings tell apart by their first line;
    ``archive`` (same metadata, no phase writes it) is not listed; ``demo_settings`` is typed."""
    inner.pytester.makeconftest(POLLS_CONFTEST)
    inner.test_file(
        """
import pytest
from demohelp import dump

@pytest.mark.demo_scenario("polls", votes={"count": 80})
def test_fewer_votes(demo_dataset):
    pass

@pytest.mark.demo_scenario("polls", votes={"count": 100, "share": 0.25}, polls={"title": "Which one?"})
def test_low_share(demo_dataset):
    pass

def test_settings(request, demo_dataset, demo_settings):
    assert demo_settings.overrides == {"polls": {"count": 4}, "votes": {"share": 0.75}}
    assert demo_settings.phases["votes"] == {"enabled": True, "count": 100, "share": 0.75}
    dump(request, demo_dataset, overrides=demo_settings.overrides, phases=demo_settings.phases)
"""
    )
    result = inner.pytester.runpytest(
        "-p",
        "no:randomly",
        "--demo-scenario=polls",
        "--demo-set=polls.count=4",
        "--demo-set=votes.share=0.75",
    )
    result.assert_outcomes(passed=3)
    summary = read_summary(result)
    assert [(e.scenario, e.seed, e.overrides, e.rows) for e in summary.datasets] == [
        ("polls", 42, "polls.count=4 votes.count=80 votes.share=0.75", "polls 4, votes 120"),
        ("polls", 42, 'polls.count=4 polls.title="Which one?" votes.share=0.25', "polls 4, votes 50"),
        ("polls", 42, "polls.count=4 votes.share=0.75", "polls 4, votes 150"),
    ]
    assert "archive" not in "\n".join(_section(result))
    data = inner.by_test()["test_settings"]
    # typed values, as the JSON dump keeps them: an int and a float, not '4' and '0.75'
    assert data["overrides"] == {"polls": {"count": 4}, "votes": {"share": 0.75}}
    assert data["phases"]["polls"] == {"enabled": True, "count": 4, "title": "Poll"}


def test_after_collection_a_line_names_the_scenarios_the_tests_use(inner: Inner) -> None:
    """The header (printed before collection) shows the run's default; once collected, one line
    names the scenarios the selected tests get data from, markers' and the default, with counts."""
    inner.test_file(
        """
import pytest

pytestmark = pytest.mark.demo_scenario("small")

@pytest.mark.parametrize("n", range(3))
def test_small(n, demo_dataset):
    pass

@pytest.mark.demo_scenario(seed=3)  # a marker without a name: the run's scenario
def test_default(demo_session):
    pass

@pytest.mark.demo_scenario()
def test_engine(demo_engine):
    pass

@pytest.mark.demo_scenario("landslide")
def test_deselected(demo_dataset):
    pass

def test_settings_only(demo_settings):
    pass

def test_plain():
    pass
"""
    )
    result = inner.pytester.runpytest_inprocess("-p", "no:randomly", "--collect-only", "-k", "not deselected")
    assert result.ret == pytest.ExitCode.OK, result.outlines
    assert header(result)["scenario"] == "baseline"  # as before: the run's default settings
    (line,) = [x for x in result.outlines if x.startswith("demoseed: tests use")]
    assert line == "demoseed: tests use scenarios: small (3 tests), baseline (2 tests)", result.outlines[:12]
    assert result.outlines.index(line) > next(i for i, x in enumerate(result.outlines) if "collected" in x)
