"""factory_boy factories for the election models: the declaration of what each row looks like.

The scenario phases do not repeat these declarations: they compile them into column generators
(:func:`pytest_demoseed.factory_batches`) and supply only what a phase decides (keys, foreign
keys, quotas, timestamps). ``tests/test_factories_match_phases.py`` checks that rows built by
these factories and rows the phases write keep the same formats and domains. Factories are
unbound: ``demo_factories`` (or :func:`pytest_demoseed.bound_factories`) binds them to a session.
"""

from __future__ import annotations

import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory

from pytest_demoseed.election import models
from pytest_demoseed.election.models import ELECTION_DAY
from pytest_demoseed.election.naming import committee_code, email_for, national_id, party_color

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

#: Voters are 18 (counting the leap days of 18 years) to 90 years old on election day.
YOUNGEST_VOTER_DAYS = 18 * 365 + 5
OLDEST_VOTER_DAYS = 90 * 365


def days_before(day: dt.date, days: int) -> dt.date:
    """``day - timedelta(days=days)``: for a plain date and whole days, by ordinal (the same date,
    a third of the cost: it runs once per elector)."""
    if type(day) is dt.date and type(days) is int and day.toordinal() - days >= 1:
        return dt.date.fromordinal(day.toordinal() - days)
    return day - dt.timedelta(days=days)


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
    full_name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    birth_date = factory.LazyAttribute(lambda o: days_before(o.election_day, o.age_in_days))
    national_id = factory.Sequence(lambda n: national_id(n + 1))

    class Params:
        first_name = factory.Maybe(
            factory.LazyAttribute(lambda o: o.gender == "F"),
            yes_declaration=factory.Faker("first_name_female"),
            no_declaration=factory.Faker("first_name_male"),
        )
        last_name = factory.Faker("last_name")
        #: The day ages are counted to (a phase gives its scenario's clock).
        election_day = ELECTION_DAY
        age_in_days = factory.Faker("random_int", min=YOUNGEST_VOTER_DAYS, max=OLDEST_VOTER_DAYS)


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
        lambda o: dt.datetime.combine(o.election.election_date, models.POLLS_OPEN) + dt.timedelta(hours=2)
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
