"""Options and their precedence: command line over environment over ini over default."""

from __future__ import annotations

import pytest
from conftest import Inner, assert_usage_error
from summary import header

ENV_VARS = ("DEMOSEED_SEED", "DEMOSEED_SCENARIO", "DEMOSEED_DATABASE_URL")

RECORD = """
from demohelp import dump

def test_record(request, demo_dataset, demo_settings, demo_engine):
    dump(request, demo_dataset, url=str(demo_engine.url), db_url=demo_settings.db_url)
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _run(inner: Inner, *args: str) -> dict:
    inner.test_file(RECORD)
    result = inner.pytester.runpytest("-p", "no:randomly", *args)
    result.assert_outcomes(passed=1)
    data = inner.by_test()["test_record"]
    top = header(result)
    assert (top["scenario"], int(top["seed"])) == (data["scenario"], data["seed"])
    return data


def test_defaults_are_baseline_and_seed_42_in_a_sqlite_file_under_basetemp(inner: Inner) -> None:
    data = _run(inner)
    assert (data["scenario"], data["seed"]) == ("baseline", 42)
    assert data["db_url"] is None
    basetemp = inner.pytester.path.parent / "basetemp"
    assert data["url"] == f"sqlite:///{basetemp / 'demoseed.sqlite'}"


def test_ini_sets_seed_and_scenario(inner: Inner) -> None:
    inner.pytester.makeini("[pytest]\ndemo_seed = 11\ndemo_scenario = small\n")
    data = _run(inner)
    assert (data["scenario"], data["seed"]) == ("small", 11)


def test_env_wins_over_ini(inner: Inner, monkeypatch: pytest.MonkeyPatch) -> None:
    inner.pytester.makeini("[pytest]\ndemo_seed = 11\ndemo_scenario = baseline\n")
    monkeypatch.setenv("DEMOSEED_SEED", "12")
    monkeypatch.setenv("DEMOSEED_SCENARIO", "small")
    data = _run(inner)
    assert (data["scenario"], data["seed"]) == ("small", 12)


def test_option_wins_over_env_and_ini(inner: Inner, monkeypatch: pytest.MonkeyPatch) -> None:
    inner.pytester.makeini("[pytest]\ndemo_seed = 11\ndemo_scenario = baseline\n")
    monkeypatch.setenv("DEMOSEED_SEED", "12")
    monkeypatch.setenv("DEMOSEED_SCENARIO", "baseline")
    data = _run(inner, "--demo-seed=13", "--demo-scenario=small")
    assert (data["scenario"], data["seed"]) == ("small", 13)


def test_each_option_resolves_on_its_own(inner: Inner, monkeypatch: pytest.MonkeyPatch) -> None:
    # seed from the command line, scenario from the environment
    inner.pytester.makeini("[pytest]\ndemo_seed = 11\ndemo_scenario = baseline\n")
    monkeypatch.setenv("DEMOSEED_SCENARIO", "small")
    data = _run(inner, "--demo-seed=5")
    assert (data["scenario"], data["seed"]) == ("small", 5)


def test_db_url_precedence_option_env_ini(inner: Inner, monkeypatch: pytest.MonkeyPatch) -> None:
    base = inner.pytester.path
    inner.pytester.makeini(f"[pytest]\ndemo_scenario = small\ndemo_db_url = sqlite:///{base}/ini.db\n")
    assert _run(inner)["url"] == f"sqlite:///{base}/ini.db"
    inner.clear()
    monkeypatch.setenv("DEMOSEED_DATABASE_URL", f"sqlite:///{base}/env.db")
    assert _run(inner)["url"] == f"sqlite:///{base}/env.db"
    inner.clear()
    data = _run(inner, f"--demo-db-url=sqlite:///{base}/opt.db")
    assert data["url"] == f"sqlite:///{base}/opt.db"
    assert data["db_url"] == f"sqlite:///{base}/opt.db"


def test_db_url_is_shown_in_the_header(inner: Inner) -> None:
    url = f"sqlite:///{inner.pytester.path}/mine.db"
    inner.test_file(RECORD)
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", f"--demo-db-url={url}")
    result.assert_outcomes(passed=1)
    assert header(result) == {"scenario": "small", "seed": "42", "database": url}


def test_ini_demo_set_merges_with_option_and_option_wins_per_key(inner: Inner) -> None:
    inner.pytester.makeini(
        "[pytest]\ndemo_scenario = small\n"
        "demo_set =\n    attendance.rate=0.2\n    electors.count=40\n    # a comment\n"
    )
    data = _run(inner, "--demo-set", "attendance.rate=0.5", "--demo-set=members.count=2")
    assert data["settings"]["attendance"]["rate"] == 0.5
    assert data["settings"]["electors"]["count"] == 40
    assert data["settings"]["members"]["count"] == 2
    assert data["counts"]["electors"] == 40
    assert data["counts"]["attendances"] == 20
    assert data["counts"]["members"] == 2
    assert data["counts"]["guarantees"] == 10


def test_repeated_demo_set_last_one_wins(inner: Inner) -> None:
    data = _run(
        inner, "--demo-scenario=small", "--demo-set=electors.count=30", "--demo-set=electors.count=20"
    )
    assert data["counts"]["electors"] == 20


def test_list_scenarios_prints_every_scenario_and_phase_defaults_and_exits_0(inner: Inner) -> None:
    inner.test_file("def test_never():\n    raise AssertionError('must not run')\n")
    result = inner.pytester.runpytest("-p", "no:randomly", "--demo-list-scenarios")
    assert result.ret == 0
    out = result.stdout.str()
    for name in ("baseline", "small", "empty", "landslide", "close-race", "low-turnout", "large"):
        assert any(line.startswith(f"{name}: ") for line in result.outlines), name
    assert "    attendance: enabled=true, rate=0.75, batch_size=50" in result.outlines
    assert "    electors: enabled=true, count=500000" in result.outlines
    assert (
        "    guarantees: enabled=true, per_member=20, total_limit=none, batch_size=100, "
        "group_distribution=random, party_weights=0.62,0.2,0.1,0.08" in result.outlines
    )
    assert "must not run" not in out
    assert "passed" not in out and "failed" not in out


def test_options_are_documented_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    for option in (
        "--demo-seed=INT",
        "--demo-scenario=NAME",
        "--demo-db-url=URL",
        "--demo-set=PHASE.KEY=VALUE",
        "--demo-list-scenarios",
        "--demo-reuse",
        "--demo-rebuild",
        "--demo-keep",
    ):
        assert option in result.stdout.str(), option
    for ini in ("demo_seed", "demo_scenario", "demo_db_url", "demo_set"):
        assert any(line.strip().startswith(ini + " ") for line in result.outlines), ini


#: (ini lines, environment, options) -> what the one ERROR line must name, and must not name.
BAD_SOURCES = [
    ("demo_progress = loud", {}, [], ["ini demo_progress", "auto, bar or none", "'loud'"], "--demo-progress"),
    ("", {}, ["--demo-progress=loud"], ["--demo-progress must be auto, bar or none", "'loud'"], "ini"),
    ("demo_db_url = sqlite://", {}, [], ["ini demo_db_url:", "sqlite:///path/to/file.db"], "--demo-db-url"),
    ("", {"DEMOSEED_DATABASE_URL": "nope://x/y"}, [], ["DEMOSEED_DATABASE_URL:", "'nope'"], "--demo-db-url"),
    ("demo_reuse = maybe", {}, [], ["ini demo_reuse = 'maybe'", "true or false"], "--demo-reuse"),
    ("demo_reset_sequences = sometimes", {}, [], ["ini demo_reset_sequences", "true or false"], "--"),
    ("", {"DEMOSEED_SCENARIO": "nope"}, [], ["DEMOSEED_SCENARIO: unknown scenario 'nope'", "small"], "--"),
    ("demo_scenario = nope", {}, [], ["ini demo_scenario: unknown scenario 'nope'", "baseline"], "--"),
    ("demo_seed = 4x2", {}, [], ["ini demo_seed", "non-negative integer", "'4x2'"], "--"),
    (
        "demo_set =\n    electors.count=40\n    attendance.rate=2",
        {},
        ["--demo-set=members.count=2"],
        ["ini demo_set: bad value for attendance.rate", "between 0 and 1"],
        "--demo-set",
    ),
    ("", {}, ["--demo-set=ballots.count=1"], ["--demo-set: unknown phase 'ballots'", "electors"], "ini"),
    ("", {}, ["--demo-set", "foo"], ["--demo-set: bad setting 'foo'", "PHASE.KEY=VALUE"], "ini"),
    (
        "demo_set = committees.enabled=false",
        {},
        [],
        ["ini demo_set: phase 'electors' needs rows from phase 'committees'", "enable committees"],
        "--demo-set",
    ),
]


def test_bad_values_name_where_they_came_from_and_what_is_valid(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ini value or an environment variable is named as such, not as the command-line flag;
    ``demo_reuse = maybe`` is an error, not silently off."""
    pytester.makepyfile(test_canary="def test_canary(demo_dataset):\n    raise AssertionError('ran')\n")
    for ini, env, args, fragments, absent in BAD_SOURCES:
        pytester.makeini(f"[pytest]\n{ini}\n")
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            line = assert_usage_error(pytester.runpytest("-p", "no:randomly", *args), *fragments)
        assert absent not in line, (absent, line)
