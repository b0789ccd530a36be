"""SamplePool: a given share of real records from CSV/JSON mixed into generated values, reproducibly."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pytest_demoseed import ScenarioError
from pytest_demoseed.generate.samples import SamplePool

TITLES = [f"Real title {i}" for i in range(20)]


def generated(rng: random.Random) -> str:
    return f"generated {rng.randrange(10**6)}"


@pytest.fixture()
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "titles.csv"
    path.write_text("title,author\n" + "".join(f"{t},someone\n" for t in TITLES), encoding="utf-8")
    return path


def test_csv_rows_become_dicts_or_one_field(csv_file: Path) -> None:
    rows = SamplePool.from_file(csv_file, share=0.5)
    assert rows.records[0] == {"title": "Real title 0", "author": "someone"} and len(rows) == 20
    titles = SamplePool.from_file(csv_file, share=0.5, field="title")
    assert list(titles.records) == TITLES


def test_json_list_of_objects_or_values(tmp_path: Path) -> None:
    path = tmp_path / "titles.json"
    path.write_text(json.dumps([{"title": t} for t in TITLES]))
    assert list(SamplePool.from_file(path, 0.3, field="title").records) == TITLES
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(TITLES))
    assert list(SamplePool.from_file(plain, 0.3).records) == TITLES


def test_the_share_of_real_records_is_exact(csv_file: Path) -> None:
    pool = SamplePool.from_file(csv_file, share=0.25, field="title")
    values = pool.draw(random.Random(1), 100, generate=generated)
    assert len(values) == 100
    assert sum(pool.is_real(v) for v in values) == 25
    assert sum(v.startswith("generated") for v in values) == 75


def test_same_seed_same_mix_other_seed_other_mix(csv_file: Path) -> None:
    pool = SamplePool.from_file(csv_file, share=0.25, field="title")
    first = pool.draw(random.Random(42), 40, generate=generated)
    assert pool.draw(random.Random(42), 40, generate=generated) == first
    assert pool.draw(random.Random(43), 40, generate=generated) != first
    real_positions = [i for i, v in enumerate(first) if pool.is_real(v)]
    assert real_positions != list(range(10))  # spread through the draw, not bunched at the start


def test_real_records_do_not_repeat_until_the_pool_is_used_up() -> None:
    pool = SamplePool.of(TITLES, share=1.0)
    values = pool.draw(random.Random(5), 30, generate=generated)
    assert len(set(values[:20])) == 20  # the first 20 are the whole pool, each once
    assert sorted(set(values)) == sorted(TITLES)


def test_share_zero_and_one() -> None:
    none_real = SamplePool.of(TITLES, 0).draw(random.Random(1), 10, generated)
    assert all(v.startswith("generated") for v in none_real)
    assert all(v in TITLES for v in SamplePool.of(TITLES, 1).draw(random.Random(1), 10, generated))
    assert SamplePool.of(TITLES, 0.5).draw(random.Random(1), 0, generated) == []


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message"),
    [
        ("missing.csv", None, {}, "does not exist"),
        ("titles.txt", "x", {}, "must end in .csv or .json"),
        ("bad.json", "{not json", {}, "cannot be read"),
        ("object.json", '{"a": 1}', {}, "JSON list"),
        ("titles.csv", "title\nA\n", {"field": "name"}, "no field 'name'"),
        ("empty.csv", "title\n", {}, "at least one record"),
    ],
)
def test_bad_files_are_one_line_errors(
    tmp_path: Path, name: str, content: str | None, kwargs: dict[str, str], message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ScenarioError, match=message) as info:
        SamplePool.from_file(path, share=0.5, **kwargs)
    assert "\n" not in str(info.value)


def test_share_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(ScenarioError, match="between 0 and 1"):
        SamplePool.of(TITLES, 1.5)
