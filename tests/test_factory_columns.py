"""The batch path derived from factory_boy factories: what it compiles, that it is deterministic
and lazy, and that what it cannot take is built per row by the factory and reported."""

from __future__ import annotations

import datetime as dt
import random
import re
import time
import tracemalloc
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import factory
import factory.random
import faker
import pytest
import sqlalchemy as sa
from factory.alchemy import SQLAlchemyModelFactory
from models import Base, Player, Team
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from summary import summary_fingerprints

from pytest_demoseed import (
    BatchColumn,
    PhaseContext,
    Scenario,
    ScenarioError,
    bound_factories,
    compile_factory,
    factory_batches,
    phase,
    seed,
)
from pytest_demoseed.build.inserts import insert_shape
from pytest_demoseed.factories.faker_pools import faker_column
from pytest_demoseed.generate.determinism import seeded_faker, seeded_random
from pytest_demoseed.scenario.context import IdAllocator

START, END = dt.date(1950, 1, 1), dt.date(2000, 12, 31)


class TeamFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class PlayerFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    """Every declaration kind the batch path compiles."""

    class Meta:
        model = Player

    team = factory.SubFactory(TeamFactory)
    name = factory.Faker("name")
    handle = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "_"))
    gender = factory.Faker("random_element", elements=OrderedDict([("F", 0.5), ("M", 0.5)]))
    first = factory.Maybe(
        factory.LazyAttribute(lambda o: o.gender == "F"),
        yes_declaration=factory.Faker("first_name_female"),
        no_declaration=factory.Faker("first_name_male"),
    )
    born = factory.Faker("date_between_dates", date_start=START, date_end=END)
    code = factory.Sequence(lambda n: f"P{n:06d}")
    shirt = factory.LazyAttributeSequence(lambda o, n: f"{o.first}-{n}")
    level = factory.Iterator(["rookie", "pro", "star"])
    score = factory.Faker("pyint", min_value=0, max_value=100)
    phone = factory.Faker("numerify", text="+44 %### ######")
    city = factory.Faker("city")
    position = factory.Faker("random_element", elements=("keeper", "defender", "forward"))
    born_year = factory.SelfAttribute("born.year")
    league = factory.LazyAttribute(lambda o: f"{o.division} league")

    class Params:
        division = "first"


class FallbackPlayerFactory(PlayerFactory):
    """Declarations the batch path cannot take: built per row by the factory."""

    token = factory.LazyFunction(lambda: f"t{factory.random.randgen.getrandbits(40):x}")
    city = factory.Faker("street_name")  # a provider the batch path does not map
    league = factory.LazyAttribute(lambda o: f"{o.token[:3]} league")  # reads a per-row value


@pytest.fixture()
def conn() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def make_ctx(conn: sa.Connection, seed_value: int, metadata: sa.MetaData = Base.metadata) -> PhaseContext:
    return PhaseContext(
        conn=conn,
        phase="players",
        settings={},
        seed=seed_value,
        rng=seeded_random(seed_value),
        faker=seeded_faker(seed_value),
        clock=dt.datetime(2026, 3, 1),
        metadata=metadata,
        shared={},
        ids=IdAllocator(conn, metadata),
        _progress=lambda phase_name, counters: None,
    )


Rows = tuple[tuple[str, ...], list[tuple[Any, ...]], PhaseContext]


def rows_of(
    conn: sa.Connection,
    seed_value: int,
    factory_class: Any = PlayerFactory,
    count: int = 300,
    disturb: bool = False,
    **kwargs: Any,
) -> Rows:
    """Every row ``factory_batches`` makes; ``disturb`` reseeds every shared random between batches,
    the way pytest-randomly or another test would."""
    ctx = make_ctx(conn, seed_value)
    kwargs.setdefault("fixed", {"team_id": 1})
    kwargs.setdefault("batch_size", 64)
    rows: list[tuple[Any, ...]] = []
    columns: tuple[str, ...] = ()
    for number, batch in enumerate(factory_batches(ctx, factory_class, count, **kwargs)):
        columns = batch.columns
        rows.extend(batch.rows)
        if disturb:
            random.seed(number)
            factory.random.reseed_random(number)
            faker.Faker.seed(number)
    return columns, rows, ctx


def test_compile_factory_takes_every_declaration_kind_it_knows() -> None:
    plan = compile_factory(PlayerFactory, faker.Faker("en_US"))
    assert plan.fallback == {}
    assert plan.subfactories == ("team",)
    assert set(plan.compiled) == {
        "name",
        "handle",
        "gender",
        "first",
        "born",
        "code",
        "shirt",
        "level",
        "score",
        "phone",
        "city",
        "position",
        "born_year",
        "league",
        "division",
    }


def test_compile_factory_names_what_falls_back_and_why() -> None:
    plan = compile_factory(FallbackPlayerFactory, faker.Faker("en_US"))
    assert plan.fallback == {"token": "LazyFunction", "city": "Faker 'street_name'"}
    assert "FallbackPlayerFactory.token (LazyFunction)" in plan.describe_fallback()


@pytest.mark.parametrize(
    ("locale", "provider", "kwargs"),
    [
        ("ja_JP", "first_name", {}),  # the locale answers with a method of its own: left to Faker
        ("ja_JP", "city", {}),
        ("en_US", "numerify", {"text": "!!-##"}),  # digit-or-empty placeholders
        ("en_US", "date_between", {}),  # "-30y".."today" is the wall clock
        ("en_US", "random_element", {"elements": {"a", "b"}}),  # a set has no stable order
        ("en_US", "pyint", {"min_value": 0, "max_value": 9, "step": 1, "extra": 1}),  # unknown argument
        ("en_US", "email", {}),
    ],
)
def test_faker_providers_it_cannot_model_are_left_to_faker(locale: str, provider: str, kwargs: Any) -> None:
    assert faker_column(faker.Faker(locale), provider, kwargs) is None


def test_faker_providers_it_models_draw_from_the_locale_lists() -> None:
    rng = random.Random(1)
    chinese = faker.Faker("zh_CN")
    person = chinese.first_name.__self__
    draw = faker_column(chinese, "first_name_female", {})  # no female list: Faker uses first_names
    assert draw is not None and set(draw(rng, 50)) <= set(person.first_names)
    draw = faker_column(faker.Faker("en_US"), "date_between", {"start_date": START, "end_date": END})
    assert draw is not None and all(START <= day <= END for day in draw(rng, 200))
    draw = faker_column(faker.Faker("en_US"), "bothify", {"text": "??-##", "letters": "XY"})
    assert draw is not None and all(re.fullmatch(r"[XY]{2}-\d\d", value) for value in draw(rng, 50))


def test_rows_follow_the_factory_declarations(conn: sa.Connection) -> None:
    columns, rows, ctx = rows_of(conn, 1)
    assert ctx.fallbacks == []
    assert columns[:3] == ("id", "team_id", "name")
    assert "status" not in columns and "token" not in columns  # defaults are the writer's, no fallback
    shape = insert_shape(Player.__table__, columns, conn.dialect)  # type: ignore[arg-type]
    columns = shape.columns  # what the writer sends: the Python-side defaults applied
    by_name = [dict(zip(columns, row, strict=True)) for row in shape.complete(rows)]
    person = faker.Faker("en_US").first_name.__self__  # Faker's en_US person provider
    female, male = set(person.first_names_female), set(person.first_names_male)
    for index, row in enumerate(by_name):
        assert row["id"] == index + 1 and row["team_id"] == 1
        assert row["status"] == "active" and row["origin"] == "seeded"  # Python-side defaults
        assert row["code"] == f"P{row['id'] - 1:06d}"  # sequence number = key - 1
        assert row["handle"] == row["name"].lower().replace(" ", "_")
        assert row["first"] in (female if row["gender"] == "F" else male)
        assert row["shirt"] == f"{row['first']}-{row['id'] - 1}"
        assert row["level"] == ("rookie", "pro", "star")[index % 3]
        assert START <= row["born"] <= END and row["born_year"] == row["born"].year
        assert 0 <= row["score"] <= 100
        assert re.fullmatch(r"\+44 [1-9]\d{3} \d{6}", row["phone"])
        assert row["position"] in ("keeper", "defender", "forward")
        assert row["league"] == "first league"
    assert {row["gender"] for row in by_name} == {"F", "M"}
    assert len({row["city"] for row in by_name}) > 100
    assert any(len(row["name"].split()) > 2 for row in by_name)  # Faker's name formats, prefixes too


def test_same_seed_same_rows_and_another_seed_other_rows(conn: sa.Connection) -> None:
    _, first, _ = rows_of(conn, 7)
    _, again, _ = rows_of(conn, 7)
    _, other, _ = rows_of(conn, 8)
    assert first == again
    assert [r[2:] for r in first] != [r[2:] for r in other]


@pytest.mark.parametrize("factory_class", [PlayerFactory, FallbackPlayerFactory])
def test_rows_do_not_depend_on_shared_randoms_reseeded_between_batches(
    conn: sa.Connection, factory_class: Any
) -> None:
    random.seed(123)
    factory.random.reseed_random(456)
    _, quiet, _ = rows_of(conn, 3, factory_class)
    _, disturbed, _ = rows_of(conn, 3, factory_class, disturb=True)
    assert quiet == disturbed


def test_fixed_columns_override_declarations_in_every_form(conn: sa.Connection) -> None:
    drawn: list[tuple[int, int]] = []

    def teams(start: int, stop: int) -> list[int]:
        drawn.append((start, stop))
        return [start // 10 + 1] * (stop - start)

    columns, rows, _ = rows_of(
        conn,
        1,
        count=25,
        batch_size=10,
        ids=range(101, 126),
        fixed={
            "team_id": BatchColumn(teams),
            "score": lambda row: row * 2,
            "level": ["x"] * 25,
            "division": "second",
        },
    )
    data = [dict(zip(columns, row, strict=True)) for row in rows]
    assert drawn == [(0, 10), (10, 20), (20, 25)]
    assert [row["id"] for row in data] == list(range(101, 126))
    assert [row["team_id"] for row in data] == [1] * 10 + [2] * 10 + [3] * 5
    assert [row["score"] for row in data] == [i * 2 for i in range(25)]
    assert {row["level"] for row in data} == {"x"}
    assert {row["league"] for row in data} == {"second league"}


def test_the_generator_makes_one_batch_per_next_whatever_the_count(conn: sa.Connection) -> None:
    ctx = make_ctx(conn, 1)
    started = time.perf_counter()
    batches = factory_batches(ctx, PlayerFactory, 10_000_000, fixed={"team_id": 1}, batch_size=1_000)
    first = next(batches)
    assert time.perf_counter() - started < 5
    assert len(first.rows) == 1_000 and first.rows[0][0] == 1


def test_memory_stays_bounded_while_rows_stream(conn: sa.Connection) -> None:
    def peak(count: int) -> int:
        ctx = make_ctx(conn, 1)
        tracemalloc.start()
        try:
            for batch in factory_batches(ctx, PlayerFactory, count, fixed={"team_id": 1}, batch_size=500):
                assert len(batch.rows) <= 500
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1_000), peak(20_000)
    assert large < small * 1.5, (small, large)


def test_a_subfactory_without_its_foreign_key_is_a_clear_error(conn: sa.Connection) -> None:
    with pytest.raises(ScenarioError, match=r"PlayerFactory\.team is a SubFactory: .*'team_id'"):
        factory_batches(make_ctx(conn, 1), PlayerFactory, 10, fixed={})


def test_a_fixed_name_that_is_nothing_is_a_clear_error(conn: sa.Connection) -> None:
    with pytest.raises(ScenarioError, match=r"fixed 'colour' is neither a column of players nor declared"):
        factory_batches(make_ctx(conn, 1), PlayerFactory, 10, fixed={"team_id": 1, "colour": "red"})


def test_a_per_row_fixed_column_of_the_wrong_length_is_a_clear_error(conn: sa.Connection) -> None:
    with pytest.raises(ScenarioError, match=r"fixed 'team_id' has 3 values for 10 rows"):
        factory_batches(make_ctx(conn, 1), PlayerFactory, 10, fixed={"team_id": [1, 2, 3]})


def test_declarations_it_cannot_take_are_built_per_row_deterministically(conn: sa.Connection) -> None:
    columns, rows, ctx = rows_of(conn, 5, FallbackPlayerFactory, count=150)
    _, again, _ = rows_of(conn, 5, FallbackPlayerFactory, count=150)
    _, other, _ = rows_of(conn, 6, FallbackPlayerFactory, count=150)
    assert rows == again and rows != other
    data = [dict(zip(columns, row, strict=True)) for row in rows]
    assert all(re.fullmatch(r"t[0-9a-f]+", row["token"]) for row in data)
    assert len({row["token"] for row in data}) == 150
    assert all(row["league"] == f"{row['token'][:3]} league" for row in data)  # demoted: built per row
    assert all(row["handle"] == row["name"].lower().replace(" ", "_") for row in data)  # compiled, passed in
    assert all(row["code"] == f"P{row['id'] - 1:06d}" for row in data)
    assert len({row["city"] for row in data}) > 50
    (note,) = ctx.fallbacks
    assert note.startswith("players: FallbackPlayerFactory: 150 rows built per row by the factory for ")
    reasons = ("token (LazyFunction)", "city (Faker 'street_name')", "league (reads a value built per row)")
    for part in reasons:
        assert part in note


def test_fallbacks_reach_the_dataset_of_a_build(tmp_path: Any) -> None:
    @phase("teams", tables=("teams",))
    def teams_phase(ctx: PhaseContext) -> Iterator[Any]:
        ctx.share("team_id", 1)
        yield from factory_batches(ctx, TeamFactory, 1)

    @phase("players", tables=("players",), requires=("teams",))
    def players_phase(ctx: PhaseContext) -> Iterator[Any]:
        team_id = ctx.need("team_id", "teams")
        yield from factory_batches(ctx, FallbackPlayerFactory, 40, fixed={"team_id": team_id})

    club = Scenario("club", (teams_phase, players_phase), Base.metadata)
    url = f"sqlite:///{tmp_path / 'club.sqlite'}"
    first = seed(url, club, create_schema=True)
    again = seed(f"sqlite:///{tmp_path / 'again.sqlite'}", club, create_schema=True)
    assert first.fingerprint == again.fingerprint
    assert first.counts == {"teams": 1, "players": 40}
    assert first.dataset is not None
    (note,) = first.dataset.fallbacks
    assert note.startswith("players: FallbackPlayerFactory: 40 rows built per row by the factory for token")


CLUB_APP = {
    "club_app/__init__.py": "",
    "club_app/models.py": """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "club_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    motto: Mapped[str] = mapped_column(sa.String(200))
    card: Mapped[str] = mapped_column(sa.String(20))
""",
    "club_app/factories.py": """
import factory
from factory.alchemy import SQLAlchemyModelFactory
from club_app.models import Member


class MemberFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Member

    name = factory.Faker("name")
    motto = factory.Faker("catch_phrase")
    card = factory.LazyFunction(lambda: "%08d" % factory.random.randgen.randrange(10**8))
""",
    "conftest.py": """
from pytest_demoseed import Scenario, factory_batches, phase, register
from club_app.factories import MemberFactory
from club_app.models import Base, Member
from pytest_demoseed.settings_kinds import integer


@phase("members", tables=("club_members",), settings={"count": integer(30)})
def members(ctx):
    yield from factory_batches(ctx, MemberFactory, ctx["count"], batch_size=7)


register(Scenario("club", (members,), Base.metadata, root_model=Member))
""",
    "test_club.py": """
import sqlalchemy as sa
from club_app.models import Member


def test_members(demo_session, demo_dataset):
    members = demo_session.scalars(sa.select(Member)).all()
    assert len(members) == 30 and len({m.card for m in members}) == 30
    assert all(m.motto and m.name for m in members)
    assert len(demo_dataset.fallbacks) == 1
""",
}


def test_the_terminal_summary_lists_per_row_fallbacks_and_the_data_holds_under_randomly(
    pytester: pytest.Pytester,
) -> None:
    for path, text in CLUB_APP.items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    pytester.makeini("[pytest]\npythonpath = .\ndemo_scenario = club\n")
    fingerprints = []
    for randomly_seed in ("1", "2"):
        result = pytester.runpytest_subprocess(f"--randomly-seed={randomly_seed}")  # reseeds every random
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(
            [
                "*per-row fallbacks: members: MemberFactory: 30 rows built per row by the factory for "
                "motto (Faker 'catch_phrase'), card (LazyFunction)*",
            ]
        )
        fingerprints.append(summary_fingerprints(result)[("club", 42)])
    assert fingerprints[0] == fingerprints[1]


# --- fixed= wins, any key type, keys for the next phase ------------------------------------------


def _boom(*args: Any) -> Any:
    raise AssertionError("a declaration fixed= or ids= provides was evaluated")


class FixedWinsFactory(PlayerFactory):
    """Declarations the batch path cannot take, each provided by ``fixed=`` or ``ids=``."""

    id = factory.LazyFunction(_boom)
    team = factory.LazyFunction(_boom)  # a relationship whose foreign key fixed= gives
    city = factory.Faker("street_name")  # an unmapped provider
    token = factory.LazyFunction(_boom)
    league = factory.LazyAttribute(lambda o: f"{o.city} league")  # reads only a fixed column


def test_a_declaration_fixed_or_ids_provides_is_never_evaluated_nor_a_fallback(
    conn: sa.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = compile_factory(FixedWinsFactory, faker.Faker("en_US"))
    assert set(plan.fallback) == {"id", "team", "city", "token"}  # on its own, the factory falls back
    monkeypatch.setattr(FixedWinsFactory, "build", _boom)  # no row is built by the factory
    columns, rows, ctx = rows_of(
        conn,
        1,
        FixedWinsFactory,
        count=50,
        batch_size=20,
        ids=range(11, 61),
        fixed={"team_id": 1, "city": "Leeds", "token": lambda row: f"t{row}"},
    )
    assert ctx.fallbacks == []
    data = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [row["id"] for row in data] == list(range(11, 61))
    assert [row["token"] for row in data] == [f"t{row}" for row in range(50)]
    assert {(row["team_id"], row["city"], row["league"]) for row in data} == {(1, "Leeds", "Leeds league")}
    assert all(row["handle"] == row["name"].lower().replace(" ", "_") for row in data)  # still compiled


class KeyBase(DeclarativeBase):
    pass


class Study(KeyBase):
    __tablename__ = "studies"
    uid: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(40))
    code: Mapped[str] = mapped_column(sa.String(20))


class Series(KeyBase):
    __tablename__ = "series"
    uid: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    study_uid: Mapped[str] = mapped_column(sa.ForeignKey("studies.uid"))
    study: Mapped[Study] = relationship()


class Image(KeyBase):
    __tablename__ = "images"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    series_uid: Mapped[str] = mapped_column(sa.ForeignKey("series.uid"))
    path: Mapped[str] = mapped_column(sa.String(80))
    series: Mapped[Series] = relationship()


class StudyTag(KeyBase):
    __tablename__ = "study_tags"
    study_uid: Mapped[str] = mapped_column(sa.ForeignKey("studies.uid"), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    note: Mapped[str] = mapped_column(sa.String(40))
    study: Mapped[Study] = relationship()


class StudyFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = Study

    uid = factory.Faker("uuid4")  # not mapped: ids= gives it
    title = factory.Sequence(lambda n: f"study {n}")
    code = factory.LazyAttribute(lambda o: o.uid.lower())


class SeriesFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = Series

    uid = factory.Sequence(lambda n: f"SE{n:04d}")
    study = factory.SubFactory(StudyFactory)


class ImageFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = Image

    id = factory.Faker("uuid4", cast_to=None)
    series = factory.SubFactory(SeriesFactory)
    path = factory.LazyAttribute(lambda o: f"{o.series_uid}/{o.id.hex}.dcm")


class StudyTagFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = StudyTag

    study = factory.SubFactory(StudyFactory)
    label = factory.Sequence(lambda n: f"tag{n}")
    note = "seen"


@pytest.fixture()
def key_conn() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    KeyBase.metadata.create_all(engine)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def drain(batches: Any) -> tuple[list[dict[str, Any]], Any]:
    """Every row of a ``factory_batches`` generator, by column, and what it returned."""
    rows: list[dict[str, Any]] = []
    while True:
        try:
            batch = next(batches)
        except StopIteration as done:
            return rows, done.value
        rows.extend(dict(zip(batch.columns, row, strict=True)) for row in batch.rows)


def test_ids_take_string_and_uuid_keys(key_conn: sa.Connection) -> None:
    ctx = make_ctx(key_conn, 1, KeyBase.metadata)
    uids = [f"ST{n:03d}" for n in range(7)]
    studies, keys = drain(factory_batches(ctx, StudyFactory, 7, ids=uids, batch_size=3))
    assert keys == uids
    assert [(r["uid"], r["title"], r["code"]) for r in studies] == [
        (uid, f"study {n}", uid.lower())
        for n, uid in enumerate(uids)  # sequence number = row index
    ]
    images = [uuid.UUID(int=ctx.rng.getrandbits(128)) for _ in range(5)]
    made, keys = drain(factory_batches(ctx, ImageFactory, 5, ids=images, fixed={"series_uid": "SE0001"}))
    assert keys == images and ctx.fallbacks == []
    assert [(r["id"], r["path"]) for r in made] == [(i, f"SE0001/{i.hex}.dcm") for i in images]


def test_composite_keys_come_through_fixed_and_come_back_as_tuples(key_conn: sa.Connection) -> None:
    ctx = make_ctx(key_conn, 1, KeyBase.metadata)
    fixed = {"study_uid": lambda row: f"ST{row // 2}"}
    made, keys = drain(factory_batches(ctx, StudyTagFactory, 4, fixed=fixed, batch_size=3))
    assert keys == [("ST0", "tag0"), ("ST0", "tag1"), ("ST1", "tag2"), ("ST1", "tag3")]
    assert [(r["study_uid"], r["label"], r["note"]) for r in made] == [(*key, "seen") for key in keys]
    with pytest.raises(
        ScenarioError, match=r"ids= needs a one-column primary key; .*\(study_uid, label\) in fixed="
    ):
        factory_batches(ctx, StudyTagFactory, 2, ids=[1, 2], fixed=fixed)
    with pytest.raises(ScenarioError, match=r"'studies' has no single integer primary key .* ids="):
        ctx.allocate("studies", 3)


def test_allocated_keys_are_returned_as_the_range(conn: sa.Connection) -> None:
    ctx = make_ctx(conn, 1)
    _, keys = drain(factory_batches(ctx, PlayerFactory, 30, fixed={"team_id": 1}, batch_size=8))
    assert keys == range(1, 31)


def test_three_levels_of_string_keyed_rows_pass_their_keys_to_the_next_phase(tmp_path: Any) -> None:
    @phase("studies", tables=("studies",))
    def studies(ctx: PhaseContext) -> Iterator[Any]:
        uids = yield from factory_batches(ctx, StudyFactory, 3, ids=[f"ST{n}" for n in range(3)])
        ctx.share("study_uids", uids)

    @phase("series", tables=("series",), requires=("studies",))
    def series(ctx: PhaseContext) -> Iterator[Any]:
        parents = ctx.need("study_uids", "studies")
        fixed = {"study_uid": lambda row: parents[row % 3]}
        keys = yield from factory_batches(ctx, SeriesFactory, 6, fixed=fixed, batch_size=4)
        ctx.share("series_uids", keys)  # made by the factory's Sequence: collected from the rows

    @phase("images", tables=("images",), requires=("series",))
    def images(ctx: PhaseContext) -> Iterator[Any]:
        parents = ctx.need("series_uids", "series")
        ids = [uuid.UUID(int=ctx.rng.getrandbits(128)) for _ in range(12)]
        yield from factory_batches(
            ctx, ImageFactory, 12, ids=ids, fixed={"series_uid": lambda row: parents[row // 2]}
        )

    scenario = Scenario("three-levels", (studies, series, images), KeyBase.metadata)
    url = f"sqlite:///{tmp_path / 'keys.sqlite'}"
    report = seed(url, scenario, create_schema=True)
    assert report.counts == {"studies": 3, "series": 6, "images": 12, "study_tags": 0}
    assert report.dataset is not None and not report.dataset.fallbacks
    engine = sa.create_engine(url)
    with engine.connect() as db:
        pairs = db.execute(sa.select(Series.uid, Series.study_uid).order_by(Series.uid)).all()
        assert [tuple(pair) for pair in pairs] == [(f"SE{n:04d}", f"ST{n % 3}") for n in range(6)]
        joined = db.execute(
            sa.select(sa.func.count()).select_from(Image).join(Series).join(Study)
        ).scalar_one()
        assert joined == 12
    engine.dispose()


def test_sequences_go_on_across_calls_and_a_tests_factories_start_past_them(tmp_path: Any) -> None:
    """String keys made by a factory's ``Sequence``: a second call for the same table goes on
    from the first (it made ``SE0000`` again, a UNIQUE failure), and a test's factory bound with
    the build's ``Dataset.sequences`` starts past every row the scenario wrote."""

    @phase("studies", tables=("studies",))
    def studies(ctx: PhaseContext) -> Iterator[Any]:
        uids = yield from factory_batches(ctx, StudyFactory, 2, ids=["ST0", "ST1"])
        ctx.share("study_uids", uids)

    @phase("series", tables=("series",), requires=("studies",))
    def series(ctx: PhaseContext) -> Iterator[Any]:
        first, second = ctx.need("study_uids", "studies")
        yield from factory_batches(ctx, SeriesFactory, 3, fixed={"study_uid": first})
        yield from factory_batches(ctx, SeriesFactory, 2, fixed={"study_uid": second})

    url = f"sqlite:///{tmp_path / 'sequences.sqlite'}"
    report = seed(url, Scenario("sequences", (studies, series), KeyBase.metadata), create_schema=True)
    assert report.dataset is not None
    assert report.dataset.sequences == {"series": 5, "studies": 2}
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            assert sorted(session.scalars(sa.select(Series.uid))) == [f"SE{n:04d}" for n in range(5)]
            with bound_factories(session, SeriesFactory, sequences=report.dataset.sequences):
                made = SeriesFactory(study=session.get(Study, "ST0"))
                session.flush()  # no UNIQUE failure: the test's row is past the scenario's
            assert made.uid == "SE0005"
            session.rollback()
    finally:
        engine.dispose()
