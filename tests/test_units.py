"""Unit tests for the pieces: seeds, canonical text, setting kinds, distributions, specs, settings."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import random
import subprocess
import sys
from collections import Counter

import pytest

from pytest_demoseed.errors import ScenarioError, SettingError
from pytest_demoseed.generate.determinism import (
    canonical,
    canonical_json,
    derive_seed,
    seeded_faker,
    seeded_random,
)
from pytest_demoseed.generate.distributions import apportion, choose_parents, progression, spread_times
from pytest_demoseed.plugin.settings import merge_assignments, parse_seed
from pytest_demoseed.scenario.spec import parse_assignment, resolve_spec
from pytest_demoseed.settings_kinds import (
    boolean,
    choice,
    date,
    fraction,
    integer,
    optional_integer,
    text,
    weights,
)
from pytest_demoseed.storage.engines import safe_url

# --- derive_seed ---------------------------------------------------------------------------------


def test_derive_seed_has_stable_known_values() -> None:
    assert derive_seed(42) == 14029984781903588331
    assert derive_seed(42, "phase", "electors") == 7954854775549957265
    assert derive_seed(7, "test", "tests/test_x.py::test_a") == 10464469228691169378


def test_derive_seed_is_blake2b_of_the_canonical_labels() -> None:
    digest = hashlib.blake2b(b'[42,"phase","electors"]', digest_size=8).digest()
    assert derive_seed(42, "phase", "electors") == int.from_bytes(digest, "big")


def test_derive_seed_does_not_use_hash_so_it_is_equal_in_any_process() -> None:
    code = (
        "from pytest_demoseed.generate.determinism import derive_seed; print(derive_seed(42, 'x', ('a', 1)))"
    )
    values = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert values == {str(derive_seed(42, "x", ("a", 1)))}


def test_derive_seed_separates_roots_and_labels() -> None:
    seeds = {derive_seed(root, *labels) for root in (0, 1, 42) for labels in [(), ("a",), ("b",), ("a", "b")]}
    assert len(seeds) == 12
    assert derive_seed(1, "ab") != derive_seed(1, "a", "b")
    assert 0 <= derive_seed(42, "x") < 2**64


def test_derive_seed_of_settings_ignores_dict_order() -> None:
    assert derive_seed(1, {"a": 1, "b": 2}) == derive_seed(1, {"b": 2, "a": 1})
    assert derive_seed(1, {"a": 1}) != derive_seed(1, {"a": 2})


def test_seeded_random_and_faker_are_private_streams() -> None:
    a, b = seeded_random(3, "x"), seeded_random(3, "x")
    random.seed(0)
    assert [a.random() for _ in range(3)] == [b.random() for _ in range(3)]
    fa, fb = seeded_faker(3, "x"), seeded_faker(3, "x")
    import faker.generator

    faker.generator.random.seed(123)  # what pytest-randomly does to Faker's shared random
    assert fa.name() == fb.name()
    assert seeded_faker(3, "x").name() != seeded_faker(4, "x").name()


# --- canonical -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (0.1, "0.1"),
        (1.0, "1.0"),
        ("text", "text"),
        (dt.date(2026, 3, 1), "2026-03-01"),
        (dt.datetime(2026, 3, 1, 8, 5, 3), "2026-03-01T08:05:03.000000"),
        (dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc), "2026-03-01T08:00:00.000000"),
        (dt.time(8, 30), "08:30:00.000000"),
        (decimal.Decimal("1.50"), "1.5"),
        (decimal.Decimal("100"), "100"),
        (decimal.Decimal("1E+2"), "100"),
        (b"\x01\xff", "01ff"),
    ],
)
def test_canonical_gives_one_text_per_value(value: object, expected: str) -> None:
    assert canonical(value) == expected


def test_canonical_json_sorts_keys_and_keeps_tuples_as_lists() -> None:
    assert canonical_json({"b": (1, 2), "a": dt.date(2026, 1, 2)}) == '{"a":"2026-01-02","b":[1,2]}'


# --- setting kinds -------------------------------------------------------------------------------


def test_boolean_kind() -> None:
    parse = boolean(True).parse
    assert [parse(v) for v in ("true", "Yes", "1", "on", "false", "NO", "0", "off", True, False)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    with pytest.raises(SettingError, match="not a boolean"):
        parse("maybe")
    with pytest.raises(SettingError):
        parse(1)


def test_integer_kind() -> None:
    parse = integer(5, minimum=0, maximum=10).parse
    assert parse("7") == 7 and parse(" 3 ") == 3 and parse(4) == 4 and parse(2.0) == 2
    for bad, message in [
        ("-1", "below the minimum 0"),
        ("11", "above the maximum 10"),
        ("x", "not an integer"),
        (2.5, "not an integer"),
        (True, "not an integer"),
        (None, "not an integer"),
    ]:
        with pytest.raises(SettingError, match=message):
            parse(bad)


def test_optional_integer_kind() -> None:
    parse = optional_integer(None).parse
    assert parse(None) is None and parse("none") is None and parse("NULL") is None and parse("") is None
    assert parse("12") == 12
    with pytest.raises(SettingError, match="none or an integer"):
        parse("-1")


def test_fraction_kind() -> None:
    parse = fraction(0.5).parse
    assert parse("0") == 0.0 and parse("1") == 1.0 and parse(0.25) == 0.25 and parse(" .75 ") == 0.75
    for bad in ("1.5", -0.1, "half", True, None):
        with pytest.raises(SettingError):
            parse(bad)


def test_choice_text_and_date_kinds() -> None:
    assert choice("a", ("a", "b")).parse(" b ") == "b"
    with pytest.raises(SettingError, match="not one of: a, b"):
        choice("a", ("a", "b")).parse("c")
    assert text("x").parse("  Spring Vote ") == "Spring Vote"
    with pytest.raises(SettingError):
        text("x").parse("  ")
    assert date(dt.date(2026, 1, 1)).parse("2026-03-01") == dt.date(2026, 3, 1)
    assert date(dt.date(2026, 1, 1)).parse(dt.datetime(2026, 3, 1, 9)) == dt.date(2026, 3, 1)
    with pytest.raises(SettingError, match="YYYY-MM-DD"):
        date(dt.date(2026, 1, 1)).parse("March")


def test_weights_kind() -> None:
    parse = weights("even").parse
    assert parse("even") == "even" and parse(" EVEN ") == "even"
    assert parse("0.62,0.2,0.1,0.08") == (0.62, 0.2, 0.1, 0.08)
    assert parse([3, 1]) == (3.0, 1.0)
    assert parse("1,0") == (1.0, 0.0)
    for bad in ("a,b", "-1,2", "0,0", "", 5):
        with pytest.raises(SettingError):
            parse(bad)


# --- apportion -----------------------------------------------------------------------------------


def test_apportion_is_exact_and_proportional() -> None:
    assert apportion([0.62, 0.2, 0.1, 0.08], 300) == [186, 60, 30, 24]
    assert apportion([1, 1, 1], 10) == [4, 3, 3]
    assert apportion([1, 1, 1], 0) == [0, 0, 0]
    assert apportion([], 5) == []
    assert apportion([0, 1], 7) == [0, 7]
    for total in range(50):
        quotas = apportion([0.5, 0.3, 0.2], total)
        assert sum(quotas) == total
        assert all(abs(q - w * total) < 1 for q, w in zip(quotas, [0.5, 0.3, 0.2], strict=True))


def test_apportion_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        apportion([1, 2], -1)
    with pytest.raises(ValueError):
        apportion([0, 0], 3)


# --- choose_parents ------------------------------------------------------------------------------


def test_choose_parents_even_and_weighted_give_exact_shares() -> None:
    rng = random.Random(1)
    assert Counter(choose_parents(rng, ["a", "b", "c"], 9, "even")) == {"a": 3, "b": 3, "c": 3}
    picks = choose_parents(rng, ["a", "b"], 10, "weighted", [0.7, 0.3])
    assert Counter(picks) == {"a": 7, "b": 3}
    assert picks != sorted(picks)  # shuffled


def test_choose_parents_random_and_zipf_are_seeded() -> None:
    parents = list(range(10))
    assert choose_parents(random.Random(5), parents, 50) == choose_parents(random.Random(5), parents, 50)
    zipf = Counter(choose_parents(random.Random(5), parents, 5000, "zipf"))
    assert zipf[0] > zipf[4] > zipf[9]
    assert set(choose_parents(random.Random(5), parents, 200)) <= set(parents)


def test_choose_parents_errors() -> None:
    rng = random.Random(0)
    assert choose_parents(rng, [], 0) == []
    with pytest.raises(ValueError, match="no parents"):
        choose_parents(rng, [], 1)
    with pytest.raises(ValueError, match="one weight per parent"):
        choose_parents(rng, [1, 2], 3, "weighted", [1.0])
    with pytest.raises(ValueError, match="unknown distribution"):
        choose_parents(rng, [1, 2], 3, "gaussian")


# --- spread_times --------------------------------------------------------------------------------


def test_spread_times_are_sorted_whole_seconds_inside_the_window() -> None:
    start, end = dt.datetime(2026, 3, 1, 8), dt.datetime(2026, 3, 1, 20)
    times = spread_times(random.Random(1), 500, start, end, [6, 9, 10, 9, 7, 6, 6, 7, 9, 11, 12, 8])
    assert len(times) == 500 and times == sorted(times)
    assert all(start <= t < end and t.microsecond == 0 for t in times)
    assert spread_times(random.Random(1), 3, start, end) == [
        dt.datetime(2026, 3, 1, 9, 8, 55),
        dt.datetime(2026, 3, 1, 10, 26, 45),
        dt.datetime(2026, 3, 1, 18, 21, 43),
    ]


def test_spread_times_follows_the_curve() -> None:
    start, end = dt.datetime(2026, 3, 1, 8), dt.datetime(2026, 3, 1, 10)
    times = spread_times(random.Random(2), 1000, start, end, [0, 1])
    assert all(t >= dt.datetime(2026, 3, 1, 9) for t in times)
    with pytest.raises(ValueError):
        spread_times(random.Random(2), 1, end, start)


# --- progression ---------------------------------------------------------------------------------


def test_progression_curves() -> None:
    assert progression(0, 1, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert progression(0, 1, 5, "ease-in") == [0.0, 0.0625, 0.25, 0.5625, 1.0]
    assert progression(0, 1, 5, "ease-out") == [0.0, 0.4375, 0.75, 0.9375, 1.0]
    assert progression(10, 20, 1) == [20.0]
    with pytest.raises(ValueError):
        progression(0, 1, 0)
    with pytest.raises(ValueError, match="unknown curve"):
        progression(0, 1, 3, "wobble")


# --- specs ---------------------------------------------------------------------------------------


def test_resolve_spec_applies_scenario_and_user_overrides() -> None:
    spec = resolve_spec("small", 3, {"attendance": {"rate": "0.2"}})
    assert spec.seed == 3 and spec.scenario_name == "small"
    assert spec.phase_settings("attendance")["rate"] == 0.2
    assert spec.phase_settings("electors")["count"] == 50
    assert spec.key == resolve_spec("small", 3, {"attendance": {"rate": 0.2}}).key
    assert spec.key != resolve_spec("small", 4, {"attendance": {"rate": 0.2}}).key
    assert spec.key != resolve_spec("small", 3).key


@pytest.mark.parametrize(
    ("scenario", "seed", "overrides", "message"),
    [
        ("nope", 1, {}, "unknown scenario 'nope'"),
        ("small", -1, {}, "non-negative integer"),
        ("small", True, {}, "non-negative integer"),
        ("small", 1, {"ballots": {}}, "unknown phase 'ballots'"),
        (
            "small",
            1,
            {"electors": {"size": 3}},
            "unknown setting electors.size; valid: electors.enabled, electors.count",
        ),
        ("small", 1, {"electors": {"count": "-3"}}, "bad value for electors.count"),
        ("small", 1, {"committees": {"enabled": False}}, "needs rows from phase 'committees'"),
        ("small", 1, {"guarantees": {"party_weights": "1,2,3"}}, "party_weights has 3 weights"),
    ],
)
def test_resolve_spec_errors(scenario: str, seed: object, overrides: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        resolve_spec(scenario, seed, overrides)  # type: ignore[arg-type]


def test_resolve_spec_allows_a_disabled_needed_phase_on_an_existing_database() -> None:
    spec = resolve_spec("small", 1, {"committees": {"enabled": False}}, fresh_database=False)
    assert spec.enabled("electors") and not spec.enabled("committees")


def test_phase_lineage_follows_dependencies_only() -> None:
    spec = resolve_spec("small", 1)
    assert [name for name, _ in spec.phase_lineage("attendance")] == [
        "attendance",
        "committees",
        "election",
        "electors",
    ]
    assert [name for name, _ in spec.phase_lineage("parties")] == ["election", "parties"]


def test_parse_assignment() -> None:
    assert parse_assignment("attendance.rate=0.5") == ("attendance", "rate", "0.5")
    assert parse_assignment(" guarantees.party_weights = 1,2 ") == ("guarantees", "party_weights", "1,2")
    assert parse_assignment("election.name=A=B") == ("election", "name", "A=B")
    for bad in ("foo", "foo=1", ".rate=1", "attendance.=1", "attendance.rate"):
        with pytest.raises(ScenarioError, match="PHASE.KEY=VALUE"):
            parse_assignment(bad)


def test_merge_assignments_option_wins_per_key_and_skips_comments() -> None:
    merged, sources = merge_assignments(
        ["attendance.rate=0.2", "", "# comment", "electors.count=40"],
        ["attendance.rate=0.5", "members.count=2"],
    )
    assert merged == {"attendance": {"rate": "0.5"}, "electors": {"count": "40"}, "members": {"count": "2"}}
    assert sources == {
        "attendance.rate": "--demo-set",
        "electors.count": "ini demo_set",
        "members.count": "--demo-set",
    }
    with pytest.raises(pytest.UsageError, match="PHASE.KEY=VALUE"):
        merge_assignments(["nonsense"], [])


def test_parse_seed() -> None:
    assert parse_seed("7", "--demo-seed") == 7 and parse_seed(" 12 ", "x") == 12 and parse_seed(0, "x") == 0
    for bad in ("abc", "1.5", "-1", True, ""):
        with pytest.raises(pytest.UsageError, match="non-negative integer"):
            parse_seed(bad, "--demo-seed")


def test_safe_url_hides_the_password() -> None:
    shown = safe_url("postgresql+psycopg://user:s3cret@db:5432/demo")
    assert "s3cret" not in shown and "user:***@db:5432/demo" in shown
    assert safe_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
