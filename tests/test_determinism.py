"""Same seed, same data: across runs, xdist, hash seeds, test order and pytest-randomly."""

from __future__ import annotations

import pytest
from conftest import Inner
from summary import summary_fingerprints

RECORD = """
import pytest
import sqlalchemy as sa
from demohelp import dump
from pytest_demoseed.election.models import Elector, Member

def test_record(request, demo_dataset, demo_session):
    first = demo_session.scalars(sa.select(Elector).order_by(Elector.id).limit(3)).all()
    rows = [[e.id, e.full_name, e.national_id, str(e.birth_date)] for e in first]
    dump(request, demo_dataset, electors=rows)
"""

PER_TEST_VALUES = """
import random
import pytest
from demohelp import dump

def _values(request, demo_faker, demo_factories, demo_election):
    party = demo_factories.Party.create(election=demo_election)
    member = demo_factories.Member.create(election=demo_election)
    dump(
        request,
        faker=[demo_faker.name(), demo_faker.email(), demo_faker.pyint()],
        party=[party.name, party.number, party.color],
        member=[member.name, member.email, member.phone],
    )

def test_alpha(request, demo_faker, demo_factories, demo_election):
    random.random()
    _values(request, demo_faker, demo_factories, demo_election)

def test_beta(request, demo_faker, demo_factories, demo_election):
    _values(request, demo_faker, demo_factories, demo_election)

def test_gamma(request, demo_faker, demo_factories, demo_election):
    _values(request, demo_faker, demo_factories, demo_election)

def test_delta(request, demo_faker, demo_factories, demo_election):
    _values(request, demo_faker, demo_factories, demo_election)
"""


def _fingerprint(result: pytest.RunResult, scenario: str = "small", seed: int = 42) -> str:
    found = summary_fingerprints(result)
    assert (scenario, seed) in found, result.outlines
    return found[(scenario, seed)]


def _strip(data: dict) -> dict:
    """The parts of a dataset that must not depend on where or how fast it was made."""
    keep = (
        "scenario",
        "seed",
        "spec_key",
        "settings",
        "counts",
        "fingerprint",
        "table_fingerprints",
        "root_id",
        "electors",
    )
    return {k: data[k] for k in keep if k in data}


def test_same_seed_gives_the_same_fingerprint_and_rows_in_two_runs(inner: Inner) -> None:
    inner.test_file(RECORD)
    first = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=7")
    first.assert_outcomes(passed=1)
    one = inner.by_test()["test_record"]
    inner.clear()
    second = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=7")
    second.assert_outcomes(passed=1)
    two = inner.by_test()["test_record"]
    assert _fingerprint(first, seed=7) == _fingerprint(second, seed=7) == one["fingerprint"]
    assert _strip(one) == _strip(two)
    assert len(one["electors"]) == 3


def test_different_seed_gives_a_different_fingerprint(inner: Inner) -> None:
    inner.test_file(RECORD)
    seven = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=7")
    a = inner.by_test()["test_record"]
    inner.clear()
    eight = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=8")
    b = inner.by_test()["test_record"]
    assert _fingerprint(seven, seed=7) != _fingerprint(eight, seed=8)
    assert a["counts"] == b["counts"]
    assert a["electors"] != b["electors"]
    # every table with random content differs (elections is one fixed row: no randomness)
    differing = {
        t for t in a["table_fingerprints"] if a["table_fingerprints"][t] != b["table_fingerprints"][t]
    }
    assert differing == {
        "parties",
        "candidates",
        "committees",
        "electors",
        "members",
        "guarantees",
        "attendances",
    }


def test_the_fingerprint_and_per_test_values_are_the_same_with_and_without_xdist(inner: Inner) -> None:
    """One project run serially and with ``-n 2``: the data every test records is the same, and
    so are the per-test values (``demo_faker``, factories) whichever worker a test lands on."""
    inner.test_file(
        RECORD.replace("def test_record(", "@pytest.mark.parametrize('n', range(8))\ndef test_record(n, "),
        name="test_record",
    )
    inner.test_file(PER_TEST_VALUES, name="test_values")

    def split(dumps: dict[str, dict]) -> tuple[list[dict], dict[str, list]]:
        records = [d for key, d in dumps.items() if key.startswith("test_record[")]
        values = {
            key.split("@")[0]: d["faker"] + d["party"] + d["member"]
            for key, d in dumps.items()
            if not key.startswith("test_record[")
        }
        return records, values

    serial = inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small")
    serial.assert_outcomes(passed=12)
    serial_records, serial_values = split(inner.dumps())
    serial_data = {_canon(d) for d in serial_records}
    inner.clear()
    parallel = inner.pytester.runpytest(
        "-p", "no:randomly", "-p", "xdist", "-n", "2", "--demo-scenario=small"
    )
    parallel.assert_outcomes(passed=12)
    records, values = split(inner.dumps())
    assert len(records) == len(serial_records) == 8
    assert {d["worker"] for d in records} == {"gw0", "gw1"}
    assert {_canon(d) for d in records} == serial_data
    assert len(serial_data) == 1
    assert _fingerprint(serial) == _fingerprint(parallel)
    # per-test values: the same on any xdist worker
    assert sorted(values) == sorted(serial_values) == ["test_alpha", "test_beta", "test_delta", "test_gamma"]
    assert values == serial_values


def _canon(data: dict) -> str:
    import json

    return json.dumps(_strip(data), sort_keys=True)


@pytest.fixture(scope="module")
def small_seed_7_fingerprint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The fingerprint of small/7 built in this process, to compare with subprocess runs."""
    from pytest_demoseed.build.builder import build
    from pytest_demoseed.election.models import Base
    from pytest_demoseed.scenario.spec import resolve_spec
    from pytest_demoseed.storage.engines import make_engine

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('pin') / 'pin.sqlite'}")
    try:
        Base.metadata.create_all(engine)
        return build(engine, resolve_spec("small", 7)).fingerprint
    finally:
        engine.dispose()


@pytest.mark.parametrize("hashseed", ["0", "1", "12345"])
def test_the_fingerprint_does_not_depend_on_pythonhashseed(
    inner: Inner, monkeypatch: pytest.MonkeyPatch, hashseed: str, small_seed_7_fingerprint: str
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", hashseed)
    inner.test_file(
        RECORD
        + """
import os, sys

def test_hashseed_is_in_effect():
    assert os.environ["PYTHONHASHSEED"] == {hs!r}
    assert sys.flags.hash_randomization == {flag}
""".format(hs=hashseed, flag=int(hashseed != "0"))
    )
    result = inner.pytester.runpytest_subprocess(
        "-p", "no:randomly", "--demo-scenario=small", "--demo-seed=7"
    )
    result.assert_outcomes(passed=2)
    # the same for every PYTHONHASHSEED (parametrized) and equal to this process's build
    assert _fingerprint(result, seed=7) == small_seed_7_fingerprint


def test_pytest_randomly_changes_neither_data_nor_per_test_values(inner: Inner) -> None:
    inner.test_file(RECORD, name="test_record")
    inner.test_file(PER_TEST_VALUES, name="test_values")
    base = ("--demo-scenario=small", "-p", "no:cacheprovider")
    plain = inner.pytester.runpytest("-p", "no:randomly", *base)
    plain.assert_outcomes(passed=5)
    expected = inner.by_test()
    for seed in ("1", "999"):
        inner.clear()
        shuffled = inner.pytester.runpytest("-p", "randomly", f"--randomly-seed={seed}", *base)
        shuffled.assert_outcomes(passed=5)
        assert "randomly-seed" in shuffled.stdout.str()
        got = inner.by_test()
        assert _strip(got["test_record"]) == _strip(expected["test_record"])
        for name in ("test_alpha", "test_beta", "test_gamma", "test_delta"):
            for key in ("faker", "party", "member"):
                assert got[name][key] == expected[name][key], (seed, name, key)
        assert _fingerprint(shuffled) == _fingerprint(plain)
    # different tests get different values
    assert expected["test_alpha"]["faker"] != expected["test_beta"]["faker"]
    assert (
        expected["test_alpha"]["member"][0] != expected["test_beta"]["member"][0]
        or expected["test_alpha"]["member"][2] != expected["test_beta"]["member"][2]
    )


def test_demo_faker_gives_a_test_the_same_values_whatever_ran_before(inner: Inner) -> None:
    inner.test_file(PER_TEST_VALUES, name="test_values")
    inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small").assert_outcomes(passed=4)
    full = inner.by_test()
    inner.clear()
    # run one test alone, then the others in reverse order
    inner.pytester.runpytest(
        "-p", "no:randomly", "--demo-scenario=small", "test_values.py::test_gamma"
    ).assert_outcomes(passed=1)
    alone = inner.by_test()["test_gamma"]
    inner.clear()
    inner.pytester.runpytest(
        "-p",
        "no:randomly",
        "--demo-scenario=small",
        "test_values.py::test_delta",
        "test_values.py::test_gamma",
        "test_values.py::test_beta",
    ).assert_outcomes(passed=3)
    reordered = inner.by_test()
    for key in ("faker", "party", "member"):
        assert alone[key] == full["test_gamma"][key]
        assert reordered["test_gamma"][key] == full["test_gamma"][key]
        assert reordered["test_beta"][key] == full["test_beta"][key]


def test_demo_seed_changes_per_test_values(inner: Inner) -> None:
    inner.test_file(PER_TEST_VALUES, name="test_values")
    inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=1").assert_outcomes(
        passed=4
    )
    one = inner.by_test()["test_beta"]["faker"]
    inner.clear()
    inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small", "--demo-seed=2").assert_outcomes(
        passed=4
    )
    assert inner.by_test()["test_beta"]["faker"] != one


TABLES = (
    "elections",
    "parties",
    "candidates",
    "committees",
    "electors",
    "members",
    "guarantees",
    "attendances",
)


def _changed(a: dict, b: dict) -> set[str]:
    return {t for t in TABLES if a["table_fingerprints"][t] != b["table_fingerprints"][t]}


def test_changing_one_phase_changes_only_it_and_its_dependents(inner: Inner) -> None:
    inner.test_file(
        """
import pytest
from demohelp import dump

def test_base(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario(attendance={"rate": 0.3})
def test_attendance(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario(members={"count": 4})
def test_members(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario(committees={"count": 3})
def test_committees(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario(parties={"count": 3})
def test_parties(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario(guarantees={"enabled": False})
def test_no_guarantees(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario(attendance={"enabled": False}, guarantees={"group_distribution": "even"})
def test_two_leaves(request, demo_dataset):
    dump(request, demo_dataset)
"""
    )
    inner.pytester.runpytest("-p", "no:randomly", "--demo-scenario=small").assert_outcomes(passed=7)
    d = inner.by_test()
    base = d["test_base"]
    assert _changed(base, d["test_attendance"]) == {"attendances"}
    assert _changed(base, d["test_members"]) == {"members", "guarantees"}
    assert _changed(base, d["test_committees"]) == {
        "committees",
        "electors",
        "members",
        "guarantees",
        "attendances",
    }
    assert _changed(base, d["test_parties"]) == {"parties", "candidates", "guarantees"}
    assert _changed(base, d["test_no_guarantees"]) == {"guarantees"}
    assert _changed(base, d["test_two_leaves"]) == {"guarantees", "attendances"}
    assert d["test_no_guarantees"]["counts"]["guarantees"] == 0


def test_scenarios_that_share_a_phase_share_its_rows(inner: Inner) -> None:
    inner.test_file(
        """
import pytest
from demohelp import dump

@pytest.mark.demo_scenario("baseline")
def test_baseline(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("landslide")
def test_landslide(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("close-race")
def test_close_race(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("low-turnout")
def test_low_turnout(request, demo_dataset):
    dump(request, demo_dataset)

@pytest.mark.demo_scenario("small", attendance={"rate": 0.75})
def test_small_like_baseline_attendance(request, demo_dataset):
    dump(request, demo_dataset)
"""
    )
    inner.pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=5)
    d = inner.by_test()
    base = d["test_baseline"]
    assert _changed(base, d["test_landslide"]) == {"guarantees"}
    assert _changed(base, d["test_close_race"]) == {"guarantees"}
    assert _changed(base, d["test_low_turnout"]) == {"attendances"}
    assert d["test_landslide"]["fingerprint"] != base["fingerprint"]
    assert base["table_fingerprints"]["electors"] == d["test_landslide"]["table_fingerprints"]["electors"]
    # small differs from baseline in electors, so its attendance rows differ too, even at the same rate
    assert "attendances" in _changed(base, d["test_small_like_baseline_attendance"])
