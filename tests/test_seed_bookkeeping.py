"""What seed() records (``demoseed_seeded``) and what clear() deletes with it: exactly the rows
seeding made, on SQLite, PostgreSQL and MariaDB (servers skipped if down, failed under CI=true)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from servers import Server, selected_backends

from pytest_demoseed import (
    Batch,
    PhaseContext,
    Scenario,
    ScenarioError,
    clear,
    database_fingerprint,
    phase,
    seed,
)
from pytest_demoseed.errors import SeedRefused
from pytest_demoseed.storage.engines import make_engine
from pytest_demoseed.storage.seeded import SEEDED_TABLE


@pytest.fixture(params=selected_backends())
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a fresh database on a server."""
    server = Server(request.param, tmp_path)
    if server.is_server:
        server.create(server.name, None)
    try:
        yield server.url
    finally:
        if server.is_server:
            server.drop(server.name)


def execute(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            found = []
            for sql in statements:
                result = conn.execute(sa.text(sql))
                found.append([tuple(row) for row in result] if sql.startswith("SELECT") else [])
            return found
    finally:
        engine.dispose()


def test_clear_deletes_only_what_seeding_wrote_and_stops_at_a_reference(url: str) -> None:
    """The issue's staging database: the user's own rows beside the demo data survive a clear
    and a ``clear=True`` reseed; a user's row pointing at a demo row stops the clear whole."""
    first = seed(url, "small", create_schema=True)
    assert first.fingerprint == database_fingerprint(url, "small")  # the record is not fingerprinted
    execute(
        url,
        "INSERT INTO elections (id, name, election_date) VALUES (1000, 'Real election', '2026-01-01')",
        "INSERT INTO parties (id, election_id, name, number, color) "
        "VALUES (1000, 1000, 'Real party', 1, '#000000')",
    )
    refused = r"already holds scenario 'small' \(102 rows, seed 42\).*--clear.*--append"
    with pytest.raises(SeedRefused, match=refused):
        seed(url, "small")
    again = seed(url, "small", clear=True)  # the demo rows replaced, the user's kept
    assert again.total_rows == 102
    [[(seeded_election,)]] = execute(url, "SELECT max(id) FROM elections")  # past the user's 1000
    execute(
        url,
        "INSERT INTO parties (id, election_id, name, number, color) "
        f"VALUES (5000, {seeded_election}, 'Points at demo data', 9, '#000009')",
    )
    before = execute(url, "SELECT count(*) FROM parties", "SELECT count(*) FROM demoseed_seeded")
    with pytest.raises(ScenarioError) as raised:
        clear(url, "small")
    message = str(raised.value)
    assert "\n" not in message
    assert "row id 5000 of table 'parties'" in message and f"elections id {seeded_election}" in message
    assert execute(url, "SELECT count(*) FROM parties", "SELECT count(*) FROM demoseed_seeded") == before

    execute(url, "DELETE FROM parties WHERE id = 5000")
    deleted = clear(url, "small")
    assert deleted["electors"] == 50 and sum(deleted.values()) == 102
    assert execute(url, "SELECT id, name FROM elections", "SELECT id, name FROM parties") == [
        [(1000, "Real election")],
        [(1000, "Real party")],
    ]
    assert execute(url, "SELECT count(*) FROM demoseed_seeded", "SELECT count(*) FROM electors") == [
        [(0,)],
        [(0,)],
    ]
    assert sum(clear(url, "small").values()) == 0  # nothing recorded: nothing to delete


def test_a_failed_seed_records_nothing_and_append_is_recorded_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    seed(url, "small", create_schema=True)
    with pytest.raises(ScenarioError):
        seed(
            url,
            "small",
            seed=2,
            clear=True,
            settings={"attendance": {"rate": 0.5}},
            on_progress=_fail_in_attendance,
        )
    assert execute(url, "SELECT DISTINCT seed FROM demoseed_seeded") == [[("42",)]]
    seed(url, "small", seed=3, append=True)
    assert execute(url, "SELECT DISTINCT seed FROM demoseed_seeded ORDER BY seed") == [[("3",), ("42",)]]
    with pytest.raises(SeedRefused, match=r"204 rows, seed 3, 42"):
        seed(url, "small")
    assert sum(clear(url, "small").values()) == 204
    assert execute(url, "SELECT count(*) FROM elections") == [[(0,)]]


def _fail_in_attendance(snapshot: dict[str, object]) -> None:
    if snapshot["current_phase"] == "attendance" and snapshot["status"] == "running":
        raise ScenarioError("the job store went away")


# --- keys the builder does not allocate in ranges -----------------------------------------------------

CODES = sa.MetaData()
sa.Table(
    "codes", CODES, sa.Column("code", sa.String(12), primary_key=True), sa.Column("label", sa.String(40))
)
sa.Table(
    "uses",
    CODES,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(12), sa.ForeignKey("codes.code"), nullable=False),
)


@phase("codes", tables=("codes", "uses"))
def codes_phase(ctx: PhaseContext) -> Iterator[Batch]:
    """String keys (one record each) and integer keys out of order and with gaps (runs)."""
    codes = [f"C{i:03d}" for i in range(1, 6)]
    yield Batch("codes", ("code", "label"), [(code, ctx.faker.word()) for code in codes])
    ids = [7, 3, 4, 5, 20, 21]
    yield Batch("uses", ("id", "code"), [(key, codes[key % 5]) for key in ids])


CODES_SCENARIO = Scenario(name="codes-test", description="string keys", phases=(codes_phase,), metadata=CODES)


def test_string_keys_and_scattered_integer_keys_are_recorded_and_cleared_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'codes.sqlite'}"
    seed(url, CODES_SCENARIO, create_schema=True)
    records = execute(
        url, "SELECT table_name, first_key, last_key, key_json FROM demoseed_seeded ORDER BY id"
    )[0]
    assert [r for r in records if r[0] == "uses"] == [
        ("uses", 3, 5, None),
        ("uses", 7, 7, None),
        ("uses", 20, 21, None),
    ]
    assert [r[3] for r in records if r[0] == "codes"] == [f'["C{i:03d}"]' for i in range(1, 6)]
    execute(
        url,
        "INSERT INTO codes (code, label) VALUES ('MINE', 'mine')",
        "INSERT INTO uses (id, code) VALUES (6, 'MINE')",
    )
    assert clear(url, CODES_SCENARIO) == {"uses": 6, "codes": 5}
    assert execute(url, "SELECT code FROM codes", "SELECT id FROM uses") == [[("MINE",)], [(6,)]]


def test_the_record_lives_outside_the_scenarios_metadata() -> None:
    """Never checked, fingerprinted or cleared with a scenario's tables."""
    assert SEEDED_TABLE.metadata is not CODES and SEEDED_TABLE.name not in CODES.tables
