"""Bad input: one clear ``ERROR:`` line, exit code 4, no traceback, no test run, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_usage_error

CANARY = """
import pathlib

def test_canary(demo_dataset):
    pathlib.Path(__file__).with_name("ran.txt").write_text("ran")
"""


@pytest.fixture()
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in ("DEMOSEED_SEED", "DEMOSEED_SCENARIO", "DEMOSEED_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_canary=CANARY)
    return pytester


#: What pytester's subprocess runner itself leaves in the project (its output and base temp).
_RUNNER_FILES = ("stdout", "stderr", "runpytest-")


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if not p.relative_to(root).parts[0].startswith(_RUNNER_FILES)}


def _run(project: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    """An inner run; ``subprocess=True`` where a driver is involved: psycopg's compiled core keeps
    the exception classes of its first import, which an in-process run's re-import would not catch."""
    runner = project.runpytest_subprocess if subprocess else project.runpytest
    result = runner("-p", "no:randomly", *args)
    assert not (project.path / "ran.txt").exists()
    return result


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            ["--demo-scenario=nope"],
            [
                "unknown scenario 'nope'",
                "baseline",
                "small",
                "empty",
                "landslide",
                "close-race",
                "low-turnout",
                "large",
            ],
            id="unknown-scenario",
        ),
        pytest.param(["--demo-seed=abc"], ["--demo-seed", "integer", "'abc'"], id="seed-not-int"),
        pytest.param(["--demo-seed=1.5"], ["--demo-seed", "integer"], id="seed-float"),
        pytest.param(["--demo-seed=-3"], ["--demo-seed", "non-negative"], id="seed-negative"),
        pytest.param(
            ["--demo-set=ballots.count=1"],
            [
                "unknown phase 'ballots'",
                "election, parties, committees, electors, members, guarantees, attendance",
            ],
            id="unknown-phase",
        ),
        pytest.param(
            ["--demo-set=parties.colour=red"],
            [
                "parties.colour",
                "parties.count",
                "parties.candidates_per_party",
                "parties.independent_candidates",
            ],
            id="unknown-setting",
        ),
        pytest.param(
            ["--demo-set=attendance.rate=1.5"],
            ["attendance.rate", "1.5", "between 0 and 1"],
            id="rate-above-1",
        ),
        pytest.param(
            ["--demo-set=attendance.rate=lots"], ["attendance.rate", "'lots'"], id="rate-not-number"
        ),
        pytest.param(
            ["--demo-set=electors.count=-1"], ["electors.count", "-1", "minimum 0"], id="count-negative"
        ),
        pytest.param(
            ["--demo-set=electors.count=many"], ["electors.count", "not an integer"], id="count-not-int"
        ),
        pytest.param(
            ["--demo-set=guarantees.group_distribution=zipfy"],
            ["guarantees.group_distribution", "'zipfy'", "random, even, weighted"],
            id="unknown-distribution",
        ),
        pytest.param(
            ["--demo-set=guarantees.party_weights=0.5,x"], ["guarantees.party_weights"], id="bad-weights"
        ),
        pytest.param(
            ["--demo-set=guarantees.party_weights=0.5,0.5"],
            ["party_weights has 2 weights", "parties.count is 4"],
            id="weights-count-mismatch",
        ),
        pytest.param(["--demo-set=members.enabled=maybe"], ["members.enabled", "boolean"], id="bad-boolean"),
        pytest.param(
            ["--demo-set=committees.count=0"],
            ["electors.count=2000", "committee", "committees.count is 0"],
            id="electors-without-committees",
        ),
        pytest.param(
            ["--demo-set=committees.count=0", "--demo-set=electors.count=0"],
            ["members.count=15", "members.assign_to_committees", "committees.count is 0"],
            id="members-without-committees",
        ),
        pytest.param(
            ["--demo-set=parties.count=0"],
            ["guarantees would make 300 rows", "parties.count is 0"],
            id="guarantees-without-parties",
        ),
        pytest.param(
            ["--demo-set=guarantees.batch_size=0"],
            ["guarantees.batch_size", "minimum 1"],
            id="batch-size-zero",
        ),
        pytest.param(["--demo-set", "foo"], ["'foo'", "PHASE.KEY=VALUE"], id="malformed-no-equals"),
        pytest.param(["--demo-set", "attendance=0.5"], ["PHASE.KEY=VALUE"], id="malformed-no-dot"),
        pytest.param(
            ["--demo-set=committees.enabled=false"],
            ["'electors'", "'committees'", "disabled"],
            id="disabled-phase-needed",
        ),
        pytest.param(
            ["--demo-set=electors.enabled=false"],
            ["'electors'", "disabled"],
            id="disabled-electors-needed-by-guarantees",
        ),
        pytest.param(["--demo-progress=loud"], ["--demo-progress", "auto, bar or none"], id="bad-progress"),
    ],
)
def test_bad_option_is_a_usage_error(project: pytest.Pytester, args: list[str], fragments: list[str]) -> None:
    assert_usage_error(_run(project, *args), *fragments)


def test_disabled_phase_error_names_both_phases(project: pytest.Pytester) -> None:
    line = assert_usage_error(_run(project, "--demo-scenario=small", "--demo-set=parties.enabled=false"))
    assert "'guarantees'" in line and "'parties'" in line


def test_disabling_the_phase_and_its_dependents_is_fine(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "-p",
        "no:randomly",
        "--demo-scenario=small",
        "--demo-set=parties.enabled=false",
        "--demo-set=guarantees.enabled=false",
    )
    result.assert_outcomes(passed=1)


def test_zero_committees_or_parties_are_fine_when_nothing_needs_them(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_counts="""
def test_counts(demo_dataset):
    counts = demo_dataset.counts
    assert counts["committees"] == counts["electors"] == counts["parties"] == counts["guarantees"] == 0
    assert counts["members"] == 3
"""
    )
    result = project.runpytest(
        "-p",
        "no:randomly",
        "--demo-scenario=small",
        "--demo-set=committees.count=0",
        "--demo-set=electors.count=0",
        "--demo-set=members.assign_to_committees=false",
        "--demo-set=parties.count=0",
        "--demo-set=parties.candidates_per_party=0",
    )
    result.assert_outcomes(passed=2)


def test_non_integer_seed_from_env_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMOSEED_SEED", "forty-two")
    assert_usage_error(_run(project), "DEMOSEED_SEED", "'forty-two'")


def test_non_integer_seed_from_ini_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\ndemo_seed = 4x2\n")
    assert_usage_error(_run(project), "demo_seed", "'4x2'")


def test_unknown_scenario_from_env_and_ini_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makeini("[pytest]\ndemo_scenario = nope\n")
    assert_usage_error(_run(project), "unknown scenario 'nope'", "baseline")
    monkeypatch.setenv("DEMOSEED_SCENARIO", "also-nope")
    assert_usage_error(_run(project), "unknown scenario 'also-nope'")


def test_bad_ini_demo_set_line_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\ndemo_set =\n    attendance.rate=0.5\n    attendance.rate=2\n")
    assert_usage_error(_run(project), "attendance.rate", "between 0 and 1")


def test_option_overrides_a_bad_ini_demo_set_line(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\ndemo_scenario = small\ndemo_set =\n    attendance.rate=2\n")
    # the option wins per key, so the bad ini value is never used ... but ini lines are parsed first
    result = project.runpytest("-p", "no:randomly", "--demo-set=attendance.rate=0.4")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "fragments"),
    [
        pytest.param("'nope'", ["test_marked", "unknown scenario 'nope'", "baseline"], id="unknown-scenario"),
        pytest.param(
            "'small', attendance=0.5", ["test_marked", "attendance=", "dict"], id="setting-not-dict"
        ),
        pytest.param(
            "'small', ballots={'count': 1}", ["test_marked", "unknown phase 'ballots'"], id="unknown-phase"
        ),
        pytest.param("'small', attendance={'rate': 1.5}", ["test_marked", "attendance.rate"], id="bad-value"),
        pytest.param(
            "'small', attendance={'turnout': 0.5}",
            ["test_marked", "attendance.turnout", "attendance.rate"],
            id="unknown-setting",
        ),
        pytest.param("'small', seed='x'", ["test_marked", "seed", "'x'"], id="seed-not-int"),
        pytest.param("'small', 'extra'", ["test_marked", "demo_scenario"], id="extra-positional"),
        pytest.param("3", ["test_marked", "must be a string"], id="name-not-string"),
        pytest.param(
            "'small', committees={'enabled': False}",
            ["test_marked", "'committees'", "disabled"],
            id="disabled-phase-needed",
        ),
    ],
)
def test_bad_marker_is_a_usage_error_at_collection(
    project: pytest.Pytester, marker: str, fragments: list[str]
) -> None:
    project.makepyfile(
        test_marked=f"""
import pytest

def test_plain(demo_dataset):
    pass

@pytest.mark.demo_scenario({marker})
def test_marked(demo_dataset):
    pass
"""
    )
    assert_usage_error(_run(project), *fragments)


def test_bad_class_marker_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_marked="""
import pytest

@pytest.mark.demo_scenario("small", electors={"count": "lots"})
class TestMarked:
    def test_one(self, demo_dataset):
        pass
"""
    )
    assert_usage_error(_run(project), "TestMarked", "electors.count")


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        pytest.param("sqlite://", ["--demo-db-url", "not a SQLite file URL"], id="sqlite-memory"),
        pytest.param("nope://x/y", ["--demo-db-url", "'nope'"], id="unknown-dialect"),
        pytest.param("::not a url::", ["--demo-db-url", "parse"], id="unparsable"),
        pytest.param(
            "sqlite:///{file}/sub/demo.db", ["--demo-db-url", "demo.db"], id="sqlite-parent-is-a-file"
        ),
        pytest.param(
            "sqlite:///{missing}/demo.db", ["--demo-db-url", "does not exist"], id="sqlite-directory-missing"
        ),
        pytest.param(
            "postgresql+psycopg://u:secret@127.0.0.1:1/demo", ["--demo-db-url"], id="postgres-refused"
        ),
    ],
)
def test_unusable_database_url_is_a_usage_error_and_leaves_nothing(
    project: pytest.Pytester, url: str, fragments: list[str]
) -> None:
    blocker = project.path / "blocker.txt"
    blocker.write_text("a file, not a directory")
    url = url.format(file=blocker, missing=project.path / "no" / "such" / "dir")
    before = _files(project.path)
    basetemp = project.path.parent / "basetemp"
    # a subprocess only where a driver is involved (see ``_run``): the SQLite and parse errors
    # are found before any driver is imported, so an in-process run sees the same
    driver = url.startswith("postgresql")
    line = assert_usage_error(_run(project, f"--demo-db-url={url}", subprocess=driver), *fragments)
    assert "secret" not in line
    assert _files(project.path) == before
    assert not basetemp.exists() or not any(basetemp.rglob("*.sqlite"))
    assert not any(project.path.rglob("*.sqlite")), "nothing may be written for a bad URL"


def test_unusable_database_url_from_env_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMOSEED_DATABASE_URL", "sqlite://")
    assert_usage_error(_run(project), "not a SQLite file URL")


def test_bad_input_with_xdist_is_a_usage_error_before_workers_start(project: pytest.Pytester) -> None:
    result = _run(project, "-p", "xdist", "-n", "2", "--demo-scenario=nope")
    assert_usage_error(result, "unknown scenario 'nope'")
    assert "bringing up nodes" not in result.stdout.str()


def test_bad_marker_with_xdist_is_a_usage_error_not_a_crashed_worker(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_marked="""
import pytest

@pytest.mark.parametrize("n", range(4))
def test_plain(n, demo_dataset):
    pass

@pytest.mark.demo_scenario("nope")
def test_marked(demo_dataset):
    pass
"""
    )
    result = _run(project, "-p", "xdist", "-n", "2", "--demo-scenario=small")
    assert_usage_error(result, "test_marked.py::test_marked", "unknown scenario 'nope'")
    assert "INTERNALERROR" not in result.stdout.str()


@pytest.mark.parametrize(
    ("path", "fragments"),
    [
        pytest.param("no_such_module.models:Base.metadata", ["no_such_module"], id="module-missing"),
        pytest.param("appmeta:Nope.metadata", ["appmeta:Nope.metadata", "Nope"], id="attribute-missing"),
        pytest.param("appmeta:NAME", ["appmeta:NAME", "not a MetaData"], id="not-metadata"),
    ],
)
def test_unloadable_demo_metadata_is_a_usage_error(
    project: pytest.Pytester, path: str, fragments: list[str]
) -> None:
    project.makepyfile(appmeta="import sqlalchemy as sa\nNAME = 'x'\nmetadata = sa.MetaData()\n")
    project.makeini(f"[pytest]\npythonpath = .\ndemo_metadata = {path}\n")
    assert_usage_error(_run(project), "demo_metadata", *fragments)
