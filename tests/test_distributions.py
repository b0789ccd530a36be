"""The helpers scenarios use, as a scenario uses them: exact where they promise quotas, shaped as
asked, and the same for the same seed in any process (no hash(), no wall clock, no set order)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pytest_demoseed import (
    SamplePool,
    apportion,
    choose_parents,
    derive_seed,
    progression,
    seeded_random,
    spread_times,
    zipf_weights,
)

START = dt.datetime(2026, 2, 28, 12, 0)
END = START + dt.timedelta(hours=24)
#: Votes per hour over a day: quiet nights, busy evenings (as the polls example uses).
HOURLY = (2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 6, 6, 7, 7, 6, 6, 7, 8, 9, 10, 9, 7, 5, 3)
PARENTS = [f"p{i}" for i in range(7)]
TITLES = [f"real {i}" for i in range(12)]

#: Every helper once, from one seed; printed as JSON so another process can be compared.
SCRIPT = """
import datetime as dt, json, sys
from pytest_demoseed import SamplePool, choose_parents, progression, seeded_random, spread_times
seed = int(sys.argv[1])
start = dt.datetime(2026, 2, 28, 12, 0)
end = start + dt.timedelta(hours=24)
parents = [f"p{i}" for i in range(7)]
rng = seeded_random(seed)
out = {d: choose_parents(rng, parents, 50, d, [5, 4, 3, 2, 1, 1, 1] if d == "weighted" else None)
       for d in ("random", "even", "weighted", "zipf")}
out["times"] = [t.isoformat() for t in spread_times(rng, 30, start, end)]
out["curve"] = [t.isoformat() for t in spread_times(rng, 30, start, end, [1, 0, 3, 5])]
pool = SamplePool.of([f"real {i}" for i in range(12)], 0.25)
out["pool"] = pool.draw(rng, 40, lambda r: f"made {r.randrange(1000)}")
out["weeks"] = progression(0.1, 0.75, 8, "ease-in")
print(json.dumps(out))
"""


def run_script(seed: int, hash_seed: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(seed)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_every_helper_gives_the_same_values_in_any_process() -> None:
    first, second = run_script(42, "1"), run_script(42, "987")
    assert first == second
    assert run_script(43, "1") != first
    assert first["even"] != sorted(first["even"])  # type: ignore[type-var]  # shuffled, not grouped


@pytest.mark.parametrize("k", [0, 1, 6, 7, 50, 301])
def test_even_gives_every_parent_an_equal_share_within_one(k: int) -> None:
    picks = Counter(choose_parents(seeded_random(derive_seed(1, "even", k)), PARENTS, k, "even"))
    shares = [picks[p] for p in PARENTS]
    assert sum(shares) == k and max(shares) - min(shares) <= 1


@pytest.mark.parametrize("seed", range(5))
def test_weighted_quotas_are_exact_for_every_seed(seed: int) -> None:
    weights = [0.62, 0.2, 0.1, 0.05, 0.03]
    picks = Counter(choose_parents(random.Random(seed), PARENTS[:5], 300, "weighted", weights))
    assert [picks[p] for p in PARENTS[:5]] == apportion(weights, 300) == [186, 60, 30, 15, 9]


def test_random_is_uniform_draws_not_quotas() -> None:
    picks = Counter(choose_parents(random.Random(3), PARENTS, 7000, "random"))
    assert all(abs(picks[p] - 1000) < 150 for p in PARENTS), picks
    assert len(set(picks.values())) > 1


def test_zipf_gives_each_rank_about_its_one_over_rank_share() -> None:
    picks = Counter(choose_parents(random.Random(4), PARENTS, 20_000, "zipf"))
    weights = zipf_weights(len(PARENTS))
    total = sum(weights)
    for parent, weight in zip(PARENTS, weights, strict=True):
        assert abs(picks[parent] / 20_000 - weight / total) < 0.015, (parent, picks)
    assert zipf_weights(3, exponent=2) == [1.0, 0.25, 1 / 9]


def test_apportion_always_sums_to_the_total_and_follows_the_weights() -> None:
    rng = random.Random(5)
    for _ in range(200):
        weights = [rng.random() + 0.01 for _ in range(rng.randint(1, 9))]
        total = rng.randint(0, 10_000)
        quotas = apportion(weights, total)
        assert sum(quotas) == total
        exact = [w / sum(weights) * total for w in weights]
        assert all(abs(q - e) < 1 for q, e in zip(quotas, exact, strict=True))


def test_votes_over_24_hours_follow_the_hourly_curve() -> None:
    times = spread_times(random.Random(6), 10_000, START, END, HOURLY)
    assert times == sorted(times) and times[0] >= START and times[-1] < END
    per_hour = Counter(int((t - START).total_seconds() // 3600) for t in times)
    total = sum(HOURLY)
    for hour, weight in enumerate(HOURLY):
        assert abs(per_hour[hour] - 10_000 * weight / total) < 90, (hour, per_hour[hour])


def test_a_zero_weight_slice_gets_nothing() -> None:
    """Attendance over polling hours: none in the closed hours."""
    opening = dt.datetime(2026, 3, 1, 0, 0)
    curve = [0] * 7 + [3, 5, 4, 3, 3, 4, 5, 6, 7, 6, 5, 3, 2] + [0] * 4  # open 07:00 to 20:00
    times = spread_times(random.Random(7), 2_000, opening, opening + dt.timedelta(days=1), curve)
    assert {t.hour for t in times} == set(range(7, 20))
    assert all(t.microsecond == 0 for t in times)


def test_progression_over_eight_weeks_moves_from_start_to_end() -> None:
    for curve in ("linear", "ease-in", "ease-out"):
        weeks = progression(0.10, 0.75, 8, curve)
        assert len(weeks) == 8 and weeks[0] == pytest.approx(0.10) and weeks[-1] == pytest.approx(0.75)
        assert all(a < b for a, b in zip(weeks, weeks[1:], strict=False)), (curve, weeks)
    linear, ease_in, ease_out = (progression(72, 30, 8, c) for c in ("linear", "ease-in", "ease-out"))
    assert ease_out[3] < linear[3] < ease_in[3]  # falling: ease-out falls early, ease-in late
    assert [round(b - a, 6) for a, b in zip(linear, linear[1:], strict=False)] == [-6.0] * 7


def test_the_sample_pool_share_is_exact_at_every_size() -> None:
    pool = SamplePool.of(TITLES, 0.25)
    for k in (0, 1, 3, 4, 160, 1001):
        values = pool.draw(random.Random(k), k, made)
        assert sum(pool.is_real(v) for v in values) == pool.real_count(k) == int(0.25 * k + 0.5)


def made(rng: random.Random) -> str:
    return f"made {rng.randrange(10**6)}"


def test_a_sample_pool_from_a_file_draws_the_same_as_from_records(tmp_path: Path) -> None:
    path = tmp_path / "titles.json"
    path.write_text(json.dumps([{"title": t} for t in TITLES]))
    from_file = SamplePool.from_file(path, 0.4, field="title")
    assert from_file == SamplePool.of(TITLES, 0.4)
    assert sum(from_file.is_real(v) for v in from_file.draw(random.Random(8), 50, made)) == 20
