"""The election factories are the declaration the phases are made from: rows the factories build
one by one and rows the phases write in batches keep the same formats and domains, and a change
to a factory changes what the phases write."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factory
import faker
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pytest_demoseed import compile_factory, seed
from pytest_demoseed.election import factories, models
from pytest_demoseed.election.naming import email_for, luhn_digit, national_id

PERSON = faker.Faker("en_US").first_name.__self__  # the word lists Faker's en_US names come from
FEMALE, MALE, LAST = set(PERSON.first_names_female), set(PERSON.first_names_male), set(PERSON.last_names)


def check_elector(elector: models.Elector, day: dt.date) -> None:
    assert elector.gender in ("F", "M")
    first, last = elector.full_name.split(" ", 1)
    assert first in (FEMALE if elector.gender == "F" else MALE), elector.full_name
    assert last in LAST, elector.full_name
    assert re.fullmatch(r"\d{11}", elector.national_id)
    assert elector.national_id[-1] == luhn_digit(elector.national_id[:-1])
    age = (day - elector.birth_date).days / 365.25
    assert 18 <= age <= 90, (elector, age)


def check_member(member: models.Member, n: int) -> None:
    assert member.name and member.name == member.name.strip()
    assert member.email == email_for(member.name, n), (member.email, n)
    assert re.fullmatch(r"\+1-\d{3}-\d{3}-\d{4}", member.phone), member.phone


def check_committee(committee: models.Committee, n: int) -> None:
    assert committee.name.endswith(" Polling Committee") and len(committee.name) > 18
    assert committee.code == f"C{n:04d}"


def check_party(party: models.Party) -> None:
    assert re.fullmatch(r"#[0-9a-f]{6}", party.color)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path_factory.mktemp('match') / 'small.sqlite'}"
    report = seed(url, "small", seed=11, create_schema=True)
    assert report.dataset is not None and report.dataset.fallbacks == ()  # nothing built the slow way
    engine = sa.create_engine(url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_every_election_factory_compiles_without_per_row_fallback() -> None:
    for name, factory_class in factories.ALL_FACTORIES.items():
        plan = compile_factory(factory_class, faker.Faker("en_US"))
        assert plan.fallback == {}, (name, plan.fallback)


def test_factory_built_rows_keep_the_domain_rules() -> None:
    factory.random.reseed_random(3)
    factories.ElectorFactory.reset_sequence(0)
    for n, elector in enumerate(factories.ElectorFactory.build_batch(200), start=1):
        check_elector(elector, factories.ELECTION_DAY)
        assert elector.national_id == national_id(n)
    factories.MemberFactory.reset_sequence(0)
    for n, member in enumerate(factories.MemberFactory.build_batch(50), start=1):
        check_member(member, n)
    factories.CommitteeFactory.reset_sequence(0)
    for n, committee in enumerate(factories.CommitteeFactory.build_batch(20), start=1):
        check_committee(committee, n)
    check_party(factories.PartyFactory.build())


def test_phase_written_rows_keep_the_same_rules(small_db: Session) -> None:
    election = small_db.scalars(sa.select(models.Election)).one()
    electors = small_db.scalars(sa.select(models.Elector)).all()
    assert len(electors) == 50
    for elector in electors:
        check_elector(elector, election.election_date)
    for member in small_db.scalars(sa.select(models.Member)).all():
        check_member(member, member.id)
    for committee in small_db.scalars(sa.select(models.Committee)).all():
        check_committee(committee, committee.id)
    for party in small_db.scalars(sa.select(models.Party)).all():
        check_party(party)
    groups = set(small_db.scalars(sa.select(models.Guarantee.group)).all())
    assert groups <= set(models.GUARANTEE_GROUPS)


def test_a_changed_factory_declaration_changes_what_the_phase_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NumberedElectorFactory(factories.ElectorFactory):
        national_id = factory.Sequence(lambda n: f"N{n + 1:09d}")
        gender = "F"

    monkeypatch.setattr(factories, "ElectorFactory", NumberedElectorFactory)
    url = f"sqlite:///{tmp_path / 'changed.sqlite'}"
    seed(url, "small", seed=11, create_schema=True)
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            electors: list[Any] = session.scalars(sa.select(models.Elector).order_by(models.Elector.id)).all()
    finally:
        engine.dispose()
    assert [e.national_id for e in electors] == [f"N{e.id:09d}" for e in electors]
    assert {e.gender for e in electors} == {"F"}
    assert all(e.full_name.split(" ", 1)[0] in FEMALE for e in electors)
