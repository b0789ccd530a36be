"""factory_boy factories for the election models: the declaration of what each row looks like.

The scenario phases make the same rows in bulk from the same formats (``naming``) and the same
Faker word lists; ``tests/test_factories_match_phases.py`` checks the two agree. Factories are
unbound: ``demo_factories`` (or :func:`pytest_demoseed.bind_factories`) binds them to a session.
"""

from __future__ import annotations

import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory

from . import models
from .naming import committee_code, email_for, national_id, party_color

__all__ = [
    "AttendanceFactory",
    "CandidateFactory",
    "CommitteeFactory",
    "ElectionFactory",
    "ElectorFactory",
    "GuaranteeFactory",
    "MemberFactory",
    "PartyFactory",
    "ALL_FACTORIES",
]

ELECTION_DAY = dt.date(2026, 3, 1)


class _Base(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class ElectionFactory(_Base):
    class Meta:
        model = models.Election

    name = factory.Sequence(lambda n: f"Demo Election {n}")
    election_date = ELECTION_DAY


class PartyFactory(_Base):
    class Meta:
        model = models.Party

    election = factory.SubFactory(ElectionFactory)
    name = factory.Sequence(lambda n: f"Party {n}")
    number = factory.Sequence(lambda n: n + 1)
    color = factory.Sequence(lambda n: party_color(0x3366CC + n * 0x0F1E2D))


class CandidateFactory(_Base):
    class Meta:
        model = models.Candidate

    election = factory.SubFactory(ElectionFactory)
    party = factory.SubFactory(PartyFactory, election=factory.SelfAttribute("..election"))
    name = factory.Faker("name")
    number = factory.Sequence(lambda n: n + 1)


class CommitteeFactory(_Base):
    class Meta:
        model = models.Committee

    election = factory.SubFactory(ElectionFactory)
    name = factory.LazyAttribute(lambda o: f"{o.city} Polling Committee")
    code = factory.Sequence(lambda n: committee_code(n + 1))

    class Params:
        city = factory.Faker("city")


class MemberFactory(_Base):
    class Meta:
        model = models.Member

    election = factory.SubFactory(ElectionFactory)
    committee = None
    name = factory.Faker("name")
    email = factory.LazyAttributeSequence(lambda o, n: email_for(o.name, n + 1))
    phone = factory.Faker("numerify", text="+1-###-###-####")


class ElectorFactory(_Base):
    class Meta:
        model = models.Elector

    election = factory.SubFactory(ElectionFactory)
    committee = factory.SubFactory(CommitteeFactory, election=factory.SelfAttribute("..election"))
    gender = factory.Faker("random_element", elements=("F", "M"))
    full_name = factory.LazyAttribute(
        lambda o: f"{o.first_name} {o.last_name}"
    )
    birth_date = factory.Faker(
        "date_between_dates",
        date_start=ELECTION_DAY - dt.timedelta(days=90 * 365),
        date_end=ELECTION_DAY - dt.timedelta(days=18 * 365),
    )
    national_id = factory.Sequence(lambda n: national_id(n + 1))

    class Params:
        first_name = factory.Maybe(
            factory.LazyAttribute(lambda o: o.gender == "F"),
            yes_declaration=factory.Faker("first_name_female"),
            no_declaration=factory.Faker("first_name_male"),
        )
        last_name = factory.Faker("last_name")


class GuaranteeFactory(_Base):
    class Meta:
        model = models.Guarantee

    election = factory.SubFactory(ElectionFactory)
    member = factory.SubFactory(MemberFactory, election=factory.SelfAttribute("..election"))
    elector = factory.SubFactory(ElectorFactory, election=factory.SelfAttribute("..election"))
    party = factory.SubFactory(PartyFactory, election=factory.SelfAttribute("..election"))
    group = factory.Faker("random_element", elements=models.GUARANTEE_GROUPS)


class AttendanceFactory(_Base):
    class Meta:
        model = models.Attendance

    election = factory.SubFactory(ElectionFactory)
    elector = factory.SubFactory(ElectorFactory, election=factory.SelfAttribute("..election"))
    committee = factory.SelfAttribute("elector.committee")
    attended_at = factory.LazyAttribute(
        lambda o: dt.datetime.combine(o.election.election_date, models.POLLS_OPEN)
        + dt.timedelta(hours=2)
    )


ALL_FACTORIES: dict[str, type[SQLAlchemyModelFactory]] = {
    "Election": ElectionFactory,
    "Party": PartyFactory,
    "Candidate": CandidateFactory,
    "Committee": CommitteeFactory,
    "Member": MemberFactory,
    "Elector": ElectorFactory,
    "Guarantee": GuaranteeFactory,
    "Attendance": AttendanceFactory,
}
