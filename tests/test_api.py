"""The library API: seed(), clear() and database_fingerprint() against real SQLite files."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factory
import pytest
import sqlalchemy as sa
from factory.alchemy import SQLAlchemyModelFactory
from models import THINGS, Base, Team
from servers import Server

from pytest_demoseed import (
    STOP,
    Batch,
    BuildCancelled,
    PhaseContext,
    Report,
    Scenario,
    ScenarioError,
    clear,
    database_fingerprint,
    factory_batches,
    get_scenario,
    phase,
    seed,
)
from pytest_demoseed.build.fingerprint import fingerprint_database
from pytest_demoseed.build.progress import LatestStatus
from pytest_demoseed.errors import DatabaseUnreachable, SchemaMismatch, SeedRefused
from pytest_demoseed.scenario import registry
from pytest_demoseed.scenario.spec import resolve_spec
from pytest_demoseed.storage.engines import make_engine

METADATA = get_scenario("small").metadata


@pytest.fixture()
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.sqlite'}"


@pytest.fixture()
def seeded(url: str) -> Report:
    return seed(url, "small", create_schema=True)


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in METADATA.sorted_tables
            }
    finally:
        engine.dispose()


def read_fingerprint(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return fingerprint_database(conn, METADATA).hexdigest()
    finally:
        engine.dispose()


def test_report_counts_and_fingerprint_match_the_database(url: str) -> None:
    report = seed(url, "small", create_schema=True)
    assert report.scenario == "small" and report.seed == 42
    assert dict(report.counts) == table_counts(url)
    assert report.counts["electors"] == 50 and report.total_rows == 102
    assert report.fingerprint == read_fingerprint(url) == database_fingerprint(url, "small")
    assert set(report.phase_seconds) == {p.name for p in get_scenario("small").phases}
    assert report.seconds > 0 and report.settings["attendance"]["rate"] == 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.seed = 1  # type: ignore[misc]


def test_settings_as_mapping_or_assignments_are_the_same(tmp_path: Path) -> None:
    mapping = {"attendance": {"rate": 0.2}}
    a = seed(f"sqlite:///{tmp_path}/a.db", "small", create_schema=True, settings=mapping)
    b = seed(f"sqlite:///{tmp_path}/b.db", "small", create_schema=True, settings=["attendance.rate=0.2"])
    assert a.fingerprint == b.fingerprint and a.counts["attendances"] == 10


def test_an_engine_is_used_as_given_and_left_open(url: str) -> None:
    engine = make_engine(url)
    report = seed(engine, "small", create_schema=True)
    with engine.connect() as conn:  # still usable: seed() disposes only engines it made
        assert conn.execute(sa.text("SELECT count(*) FROM electors")).scalar_one() == 50
    assert report.database == str(engine.url)
    engine.dispose()


def test_a_disabled_phase_reuses_rows_already_there(url: str, seeded: Report) -> None:
    report = seed(
        url,
        "small",
        seed=7,
        settings=["election.enabled=false", "parties.enabled=false", "committees.enabled=false"],
        append=True,  # the database holds small already: adding to it is asked for explicitly
    )
    assert report.counts["elections"] == report.counts["parties"] == report.counts["committees"] == 0
    assert report.counts["electors"] == 50
    counts = table_counts(url)
    assert counts["elections"] == 1 and counts["electors"] == 100 and counts["committees"] == 2
    engine = make_engine(url)
    with engine.connect() as conn:  # the new electors belong to the existing election's committees
        committees = set(conn.execute(sa.text("SELECT DISTINCT committee_id FROM electors")).scalars())
        existing = set(conn.execute(sa.text("SELECT id FROM committees")).scalars())
    engine.dispose()
    assert committees <= existing


def test_clear_then_seed_gives_the_first_fingerprint(url: str, seeded: Report) -> None:
    again = seed(url, "small", clear=True)
    assert again.cleared and again.fingerprint == seeded.fingerprint == read_fingerprint(url)
    deleted = clear(url, "small")
    assert deleted["electors"] == 50 and set(table_counts(url).values()) == {0}


def test_cancel_by_returning_stop_leaves_the_database_unchanged(url: str, seeded: Report) -> None:
    seen: list[dict[str, Any]] = []

    def stop_in_guarantees(snapshot: dict[str, Any]) -> str | None:
        seen.append(snapshot)
        return STOP if snapshot["current_phase"] == "guarantees" else None

    with pytest.raises(BuildCancelled):
        seed(url, "small", seed=9, clear=True, on_progress=stop_in_guarantees)
    assert seen[-1]["status"] == "cancelled"
    assert read_fingerprint(url) == seeded.fingerprint  # the clear was rolled back too


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_exception_mid_build_leaves_the_database_unchanged(
    url: str, seeded: Report, error: BaseException
) -> None:
    def fail_in_attendance(snapshot: dict[str, Any]) -> None:
        if snapshot["current_phase"] == "attendance" and snapshot["progress"]["guarantees"]:
            raise error

    with pytest.raises(type(error)):
        seed(url, "small", seed=3, clear=True, on_progress=fail_in_attendance)
    assert read_fingerprint(url) == seeded.fingerprint


def test_a_cancelled_create_schema_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    with pytest.raises(BuildCancelled):
        seed(f"sqlite:///{path}", "small", create_schema=True, on_progress=lambda s: STOP)
    assert not path.exists()


def test_seed_in_a_thread_polled_like_a_web_job(url: str) -> None:
    def slow(snapshot: dict[str, Any]) -> None:
        time.sleep(0.005)  # a job that stores each event somewhere

    status = LatestStatus(forward=slow)
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(report=seed(url, "small", create_schema=True, on_progress=status))
    )
    worker.start()
    polled = []
    while worker.is_alive():
        latest = status.latest()
        if latest is not None:
            polled.append((latest["status"], latest["current_phase"]))
        time.sleep(0.002)
    worker.join()
    assert ("running", "electors") in polled
    final = status.latest()
    assert final is not None and final["status"] == "done" and final["errors"] == []
    assert final["progress"]["electors"]["rows"] == 50
    assert result["report"].fingerprint == read_fingerprint(url)


def test_a_poller_can_cancel_the_job(url: str, seeded: Report) -> None:
    status = LatestStatus(forward=lambda snapshot: time.sleep(0.005))
    failure: list[BaseException] = []

    def job() -> None:
        try:
            seed(url, "baseline", clear=True, on_progress=status)
        except BaseException as exc:  # noqa: BLE001 - the job records its outcome
            failure.append(exc)

    worker = threading.Thread(target=job)
    worker.start()
    while worker.is_alive():
        latest = status.latest()
        if latest and latest["current_phase"] == "electors":
            status.cancel()
        time.sleep(0.002)
    worker.join()
    assert [type(e) for e in failure] == [BuildCancelled]
    latest = status.latest()
    assert latest is not None and latest["status"] == "cancelled"
    assert read_fingerprint(url) == seeded.fingerprint


def test_bad_input_is_a_scenario_error_before_any_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/never.sqlite"
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'.*small"):
        seed(url, "nope", create_schema=True)
    with pytest.raises(ScenarioError, match="bad setting"):
        seed(url, "small", settings=["attendance"], create_schema=True)
    with pytest.raises(ScenarioError, match="attendance.rate"):
        seed(url, "small", settings={"attendance": {"rate": 3}}, create_schema=True)
    with pytest.raises(ScenarioError, match="seed"):
        seed(url, "small", seed=-1, create_schema=True)
    assert not (tmp_path / "never.sqlite").exists()


BAD_INPUT = {
    "unknown scenario": ({"scenario": "nope"}, "unknown scenario 'nope'"),
    "negative seed": ({"seed": -1}, "seed must be a non-negative integer"),
    "bad setting": ({"settings": ["attendance"]}, "bad setting"),
    "setting out of range": ({"settings": {"attendance": {"rate": 3}}}, "attendance.rate"),
    "clear and append": ({"clear": True, "append": True}, "exclude each other"),
    "bad url": ({"url": "postgresql+psycopg://root@127.0.0.1:abc/x"}, "port"),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_still_ends_the_job_status_failed(tmp_path: Path, name: str) -> None:
    """The README's promise holds for input errors too: the last event is final, so a poller's
    ``status.latest()["status"]`` never meets None."""
    given, fragment = BAD_INPUT[name]
    kwargs = {key: value for key, value in given.items() if key not in ("scenario", "url")}
    status = LatestStatus()
    with pytest.raises(ScenarioError, match=re.escape(fragment)):
        seed(
            str(given.get("url", f"sqlite:///{tmp_path}/never.sqlite")),
            str(given.get("scenario", "small")),
            on_progress=status,
            create_schema=True,
            **kwargs,  # type: ignore[arg-type]
        )
    last = status.latest()
    assert last is not None and last["status"] == "failed" and last["current_phase"] is None
    (error,) = last["errors"]
    assert fragment in error["message"] and error["extra"]["error"].endswith("Error")
    if name != "unknown scenario":  # the phases are known: listed as in every event
        assert list(last["progress"]) == [p.name for p in get_scenario("small").phases]
    assert not (tmp_path / "never.sqlite").exists()


def test_a_disabled_phase_is_one_rule_for_seed_and_the_fixtures(url: str) -> None:
    """Fresh database: seed() refuses a phase that needs a disabled one's rows with the very
    message the fixtures (``resolve_spec(fresh_database=True)``) give; once rows are there, the
    later phases run on them (reuse needs ``append``: the database holds the scenario already)."""
    off = {name: {"enabled": False} for name in ("election", "parties", "committees")}
    with pytest.raises(ScenarioError) as fixtures_side:
        resolve_spec("small", 42, off, fresh_database=True)
    engine = make_engine(url)
    METADATA.create_all(engine)
    engine.dispose()
    with pytest.raises(SeedRefused) as seed_side:
        seed(url, "small", settings=off)
    assert str(seed_side.value) == str(fixtures_side.value)
    assert "phase 'electors' needs rows from phase 'election', which is disabled" in str(seed_side.value)
    assert set(table_counts(url).values()) == {0}
    seed(url, "small")
    reused = seed(url, "small", settings=off, append=True)
    assert reused.counts["elections"] == 0 and reused.counts["electors"] == 50
    with pytest.raises(SeedRefused, match="'election', which is disabled"):
        seed(url, "small", settings=off, clear=True)  # cleared first: no election left to reuse


def test_seeding_again_is_refused_unless_cleared_or_appended(url: str, seeded: Report) -> None:
    before = read_fingerprint(url)
    with pytest.raises(SeedRefused, match=r"already holds scenario 'small' \(102 rows, seed 42\)"):
        seed(url, "small", seed=43)
    assert read_fingerprint(url) == before  # refused before anything was written
    appended = seed(url, "small", append=True)
    assert appended.total_rows == 102 and table_counts(url)["electors"] == 100
    assert seed(url, "small", clear=True).fingerprint == seeded.fingerprint  # both copies replaced


def test_missing_tables_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    engine = make_engine(f"sqlite:///{empty}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE other (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    before = empty.read_bytes()
    with pytest.raises(SchemaMismatch, match="create the schema first"):
        seed(f"sqlite:///{empty}", "small")
    with pytest.raises(SchemaMismatch):
        clear(f"sqlite:///{empty}", "small")
    assert empty.read_bytes() == before
    with pytest.raises(DatabaseUnreachable, match="no SQLite database file"):
        seed(f"sqlite:///{tmp_path}/absent.sqlite", "small")
    with pytest.raises(DatabaseUnreachable):
        database_fingerprint(f"sqlite:///{tmp_path}/no/dir/x.sqlite", "small")
    assert not (tmp_path / "absent.sqlite").exists()


# --- the job-status events, as the issue shapes them -----------------------------------------------


def test_progress_events_are_job_statuses_with_per_phase_counters(url: str) -> None:
    """``{"status", "current_phase", "progress": {"parties": {"created", "candidates"},
    "guarantees": {"total", "batches"}, ...}, "errors": [...]}``, phase by phase."""
    events: list[dict[str, Any]] = []
    report = seed(url, "baseline", create_schema=True, on_progress=events.append)
    phases = [p.name for p in get_scenario("baseline").phases]
    for event in events:
        assert set(event) == {"status", "current_phase", "progress", "errors", "elapsed"}
        assert list(event["progress"]) == phases  # every phase, in build order, from the first event
        assert event["errors"] == []
    assert events[0]["status"] == "running" and events[-1]["status"] == "done"
    assert all(e["status"] == "running" for e in events[:-1])
    entered = [e["current_phase"] for e in events if e["current_phase"] is not None]
    assert list(dict.fromkeys(entered)) == phases  # phases are entered once each, in order
    in_guarantees = next(e for e in events if e["current_phase"] == "guarantees")
    parties = in_guarantees["progress"]["parties"]
    assert parties["created"] == report.counts["parties"]
    assert parties["candidates"] == report.counts["candidates"]
    guarantees = events[-1]["progress"]["guarantees"]
    batch_size = report.settings["guarantees"]["batch_size"]
    assert guarantees["total"] == report.counts["guarantees"]
    assert guarantees["batches"] == -(-report.counts["guarantees"] // batch_size) > 1
    assert events[-1]["progress"]["electors"]["created"] == report.counts["electors"]
    json.dumps(events)  # a web job can store them as they are


def things_scenario(name: str, failure: str) -> Scenario:
    """Writes 10 rows, then fails the way ``failure`` says: a database error, a bug, or Ctrl-C."""

    @phase("things", tables=("things",))
    def things(ctx: PhaseContext) -> Iterator[Batch]:
        ids = list(ctx.allocate("things", 10))
        yield Batch("things", ("id", "label"), [(i, f"thing {i}") for i in ids])
        ctx.progress(created=10)
        if failure == "duplicate key":
            yield Batch("things", ("id", "label"), [(ids[0], "again")])
        elif failure == "bug":
            raise RuntimeError("boom in a user's phase")
        elif failure == "interrupt":
            raise KeyboardInterrupt

    return Scenario(name=name, description="things", phases=(things,), metadata=THINGS)


@pytest.fixture()
def things_db(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "things.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    THINGS.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO things (id, label) VALUES (100, 'kept')"))
    engine.dispose()
    yield f"sqlite:///{path}", path
    for name in [n for n in registry.scenario_names() if n.startswith("things-")]:
        registry.unregister(name)


@pytest.mark.parametrize(
    ("failure", "raised", "status", "error"),
    [
        ("duplicate key", sa.exc.IntegrityError, "failed", "IntegrityError"),
        ("bug", RuntimeError, "failed", "RuntimeError"),
        ("interrupt", KeyboardInterrupt, "cancelled", None),
    ],
)
def test_a_failure_inside_a_phase_ends_the_job_status_and_writes_nothing(
    things_db: tuple[str, Path], failure: str, raised: type[BaseException], status: str, error: str | None
) -> None:
    url, path = things_db
    before = path.read_bytes()
    events: list[dict[str, Any]] = []
    with pytest.raises(raised):
        seed(url, things_scenario(f"things-{failure.replace(' ', '-')}", failure), on_progress=events.append)
    last = events[-1]
    assert last["status"] == status and last["current_phase"] == "things"
    assert last["progress"]["things"]["created"] == 10  # the counters as they stood
    if error is None:
        assert last["errors"] == []
    else:
        assert len(last["errors"]) == 1
        (reported,) = last["errors"]
        assert set(reported) == {"phase", "message", "extra"}
        assert reported["phase"] == "things" and reported["extra"]["error"] == error
        assert "\n" not in reported["message"] and reported["message"]
    assert path.read_bytes() == before  # the 10 rows written before the failure were rolled back


def test_seed_uses_a_scenario_object_as_given_and_registers_nothing(things_db: tuple[str, Path]) -> None:
    url, _ = things_db
    first, second = things_scenario("things-twice", "none"), things_scenario("things-twice", "none")
    assert first is not second  # two objects with one name: each is used as it is
    assert seed(url, first).counts["things"] == 10
    assert seed(url, second, append=True).counts["things"] == 10  # no "another scenario named ..."
    assert "things-twice" not in registry.scenario_names()


def test_keyboard_interrupt_in_the_callback_is_a_cancelled_job(url: str, seeded: Report) -> None:
    events: list[dict[str, Any]] = []

    def interrupt_in_electors(snapshot: dict[str, Any]) -> None:
        events.append(snapshot)
        if snapshot["current_phase"] == "electors" and snapshot["status"] == "running":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seed(url, "small", seed=5, clear=True, on_progress=interrupt_in_electors)
    assert events[-1]["status"] == "cancelled" and events[-1]["errors"] == []
    assert read_fingerprint(url) == seeded.fingerprint


# --- the README's background-job example runs as written -------------------------------------------


def readme_block(containing: str) -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"README should have one python block with {containing!r}"
    return found[0]


def test_the_readme_thread_example_runs_and_ends_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_block("threading.Thread"), "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "done", printed
    assert (
        database_fingerprint("sqlite:///demo.sqlite", "baseline")
        == seed(f"sqlite:///{tmp_path}/twin.sqlite", "baseline", create_schema=True).fingerprint
    )


def test_the_readme_celery_sketch_calls_seed_as_documented() -> None:
    """The Celery task is a sketch (no Celery here): it must at least compile and use the API's names."""
    block = readme_block("update_state")
    compile(block, "README.md", "exec")
    assert "seed(" in block and "on_progress=" in block and "STOP" in block


# --- on the database servers ------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "mariadb"])
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database on a real server (skipped, or failed under CI=true, if it is down)."""
    server = Server(request.param, tmp_path)
    server.create(server.name, None)
    try:
        yield server.url
    finally:
        server.drop(server.name)


@pytest.mark.parametrize("how", ["stop", "interrupt", "error"])
def test_a_cancelled_or_failed_clear_and_rebuild_on_a_server_keeps_the_first_data(
    server_url: str, tmp_path: Path, how: str
) -> None:
    first = seed(server_url, "small", create_schema=True)
    twin = seed(f"sqlite:///{tmp_path}/twin.sqlite", "small", create_schema=True)
    assert first.fingerprint == twin.fingerprint
    events: list[dict[str, Any]] = []

    def in_attendance(snapshot: dict[str, Any]) -> str | None:
        events.append(snapshot)
        if snapshot["current_phase"] != "attendance" or snapshot["status"] != "running":
            return None
        if how == "interrupt":
            raise KeyboardInterrupt
        if how == "error":
            raise RuntimeError("the job's store went away")
        return STOP

    raised = {"stop": BuildCancelled, "interrupt": KeyboardInterrupt, "error": RuntimeError}[how]
    with pytest.raises(raised):
        seed(server_url, "small", seed=8, clear=True, on_progress=in_attendance)
    assert any(e["progress"]["electors"].get("rows") for e in events)  # it had rebuilt electors
    assert database_fingerprint(server_url, "small") == first.fingerprint


# --- the same builder as the fixtures ---------------------------------------------------------------


def test_seed_writes_what_the_fixtures_see(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """A demo database seeded with ``seed()`` holds the rows a test gets for the same spec."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.demo_scenario("small", seed=11, attendance={"rate": 0.2})
        def test_print(demo_dataset):
            print("FINGERPRINT", demo_dataset.fingerprint, sorted(demo_dataset.counts.items()))
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-s")
    result.assert_outcomes(passed=1)
    (line,) = [x for x in result.outlines if "FINGERPRINT " in x]
    report = seed(
        f"sqlite:///{tmp_path}/demo.sqlite",
        "small",
        seed=11,
        settings=["attendance.rate=0.2"],
        create_schema=True,
    )
    assert line.split("FINGERPRINT ", 1)[1] == f"{report.fingerprint} {sorted(report.counts.items())}"


# --- per-row fallbacks are reported ---------------------------------------------------------------


class LazyTeamFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = Team

    name = factory.LazyFunction(lambda: "Team")  # not compiled: built per row by the factory


def test_the_report_lists_per_row_fallbacks(tmp_path: Path) -> None:
    """A column the batch path cannot compile (``LazyFunction``) is built per row by the factory:
    ``Report.fallbacks`` (and ``as_dict()``) say so, as the pytest summary does."""

    @phase("teams", tables=("teams",))
    def teams_phase(ctx: PhaseContext) -> Iterator[Any]:
        yield from factory_batches(ctx, LazyTeamFactory, 5)

    report = seed(
        f"sqlite:///{tmp_path / 'teams.sqlite'}",
        Scenario("lazy-teams", (teams_phase,), Base.metadata),
        create_schema=True,
    )
    (note,) = report.fallbacks
    assert note.startswith(
        "teams: LazyTeamFactory: 5 rows built per row by the factory for name (LazyFunction)"
    )
    assert report.as_dict()["fallbacks"] == [note]
    compiled = seed(f"sqlite:///{tmp_path / 'small.sqlite'}", "small", create_schema=True)
    assert compiled.fallbacks == () and compiled.as_dict()["fallbacks"] == []
