"""The built-in election domain: SQLAlchemy 2.0 declarative models users and their tests rely on."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship

__all__ = [
    "Attendance",
    "Base",
    "Candidate",
    "ELECTION_DAY",
    "Committee",
    "Election",
    "Elector",
    "Guarantee",
    "Member",
    "Party",
    "POLLS_OPEN",
    "POLLS_CLOSE",
    "GUARANTEE_GROUPS",
]

#: The one election day of the built-in domain: the scenarios' clock and the factories' default.
ELECTION_DAY = dt.date(2026, 3, 1)
POLLS_OPEN = dt.time(8, 0)
POLLS_CLOSE = dt.time(20, 0)
GUARANTEE_GROUPS = ("strong", "medium", "weak")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class Election(Base):
    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    election_date: Mapped[dt.date] = mapped_column(sa.Date)

    parties: Mapped[list[Party]] = relationship(
        back_populates="election", order_by="Party.number", cascade="all, delete-orphan"
    )
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="election", order_by="Candidate.number", cascade="all, delete-orphan"
    )
    committees: Mapped[list[Committee]] = relationship(
        back_populates="election", order_by="Committee.code", cascade="all, delete-orphan"
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="election", order_by="Member.id", cascade="all, delete-orphan"
    )
    electors: Mapped[list[Elector]] = relationship(
        back_populates="election", order_by="Elector.id", cascade="all, delete-orphan"
    )
    guarantees: Mapped[list[Guarantee]] = relationship(
        back_populates="election", order_by="Guarantee.id", cascade="all, delete-orphan"
    )
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="election", order_by="Attendance.id", cascade="all, delete-orphan"
    )

    def elector_count(self) -> int:
        session = object_session(self)
        if session is None:
            return len(self.electors)
        query = sa.select(sa.func.count(Elector.id)).where(Elector.election_id == self.id)
        return int(session.scalar(query) or 0)

    def attendance_count(self) -> int:
        session = object_session(self)
        if session is None:
            return len(self.attendances)
        query = sa.select(sa.func.count(Attendance.id)).where(Attendance.election_id == self.id)
        return int(session.scalar(query) or 0)

    def turnout(self) -> float:
        """Share of electors on the roll who voted (0.0 when the roll is empty)."""
        electors = self.elector_count()
        return self.attendance_count() / electors if electors else 0.0

    def guarantee_shares(self) -> dict[str, float]:
        """Each party's share of this election's guarantees, by party name."""
        session = object_session(self)
        if session is None:
            raise RuntimeError("guarantee_shares() needs the election to be in a session")
        rows = session.execute(
            sa.select(Party.name, sa.func.count(Guarantee.id))
            .join(Guarantee, Guarantee.party_id == Party.id)
            .where(Party.election_id == self.id)
            .group_by(Party.name)
        ).all()
        total = sum(count for _, count in rows)
        return {name: count / total for name, count in rows} if total else {}

    def __repr__(self) -> str:
        return f"<Election {self.id} {self.name!r} {self.election_date}>"


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (
        sa.UniqueConstraint("election_id", "number"),
        sa.UniqueConstraint("election_id", "color"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    number: Mapped[int] = mapped_column(sa.Integer)
    color: Mapped[str] = mapped_column(sa.String(7))

    election: Mapped[Election] = relationship(back_populates="parties")
    candidates: Mapped[list[Candidate]] = relationship(back_populates="party", order_by="Candidate.number")

    def __repr__(self) -> str:
        return f"<Party {self.number} {self.name!r}>"


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (sa.UniqueConstraint("election_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    number: Mapped[int] = mapped_column(sa.Integer)

    election: Mapped[Election] = relationship(back_populates="candidates")
    party: Mapped[Party | None] = relationship(back_populates="candidates")

    @property
    def is_independent(self) -> bool:
        return self.party_id is None

    def __repr__(self) -> str:
        return f"<Candidate {self.number} {self.name!r}>"


class Committee(Base):
    __tablename__ = "committees"
    __table_args__ = (sa.UniqueConstraint("election_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    code: Mapped[str] = mapped_column(sa.String(20))

    election: Mapped[Election] = relationship(back_populates="committees")
    electors: Mapped[list[Elector]] = relationship(back_populates="committee", order_by="Elector.id")
    members: Mapped[list[Member]] = relationship(back_populates="committee", order_by="Member.id")

    def __repr__(self) -> str:
        return f"<Committee {self.code} {self.name!r}>"


class Member(Base):
    """A campaign user."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    committee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("committees.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(190), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(32))

    election: Mapped[Election] = relationship(back_populates="members")
    committee: Mapped[Committee | None] = relationship(back_populates="members")
    guarantees: Mapped[list[Guarantee]] = relationship(back_populates="member", order_by="Guarantee.id")

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.email!r}>"


class Elector(Base):
    """A voter on the roll."""

    __tablename__ = "electors"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    committee_id: Mapped[int] = mapped_column(sa.ForeignKey("committees.id"), index=True)
    full_name: Mapped[str] = mapped_column(sa.String(160))
    gender: Mapped[str] = mapped_column(sa.String(1))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    national_id: Mapped[str] = mapped_column(sa.String(16), unique=True)

    election: Mapped[Election] = relationship(back_populates="electors")
    committee: Mapped[Committee] = relationship(back_populates="electors")
    guarantee: Mapped[Guarantee | None] = relationship(back_populates="elector", uselist=False)
    attendance: Mapped[Attendance | None] = relationship(back_populates="elector", uselist=False)

    def __repr__(self) -> str:
        return f"<Elector {self.id} {self.full_name!r}>"


class Guarantee(Base):
    """A member's record that an elector pledged support to a party."""

    __tablename__ = "guarantees"
    __table_args__ = (
        sa.UniqueConstraint("election_id", "elector_id"),
        sa.CheckConstraint(sa.column("group").in_(GUARANTEE_GROUPS), name="group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    elector_id: Mapped[int] = mapped_column(sa.ForeignKey("electors.id"))
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("parties.id"), index=True)
    group: Mapped[str] = mapped_column(sa.String(6))

    election: Mapped[Election] = relationship(back_populates="guarantees")
    member: Mapped[Member] = relationship(back_populates="guarantees")
    elector: Mapped[Elector] = relationship(back_populates="guarantee")
    party: Mapped[Party] = relationship()

    def __repr__(self) -> str:
        return f"<Guarantee {self.id} elector={self.elector_id} party={self.party_id} {self.group}>"


class Attendance(Base):
    """An elector who voted, at their own committee, during polling hours."""

    __tablename__ = "attendances"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(sa.ForeignKey("elections.id"), index=True)
    elector_id: Mapped[int] = mapped_column(sa.ForeignKey("electors.id"), unique=True)
    committee_id: Mapped[int] = mapped_column(sa.ForeignKey("committees.id"), index=True)
    attended_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)

    election: Mapped[Election] = relationship(back_populates="attendances")
    elector: Mapped[Elector] = relationship(back_populates="attendance")
    committee: Mapped[Committee] = relationship()

    def __repr__(self) -> str:
        return f"<Attendance {self.id} elector={self.elector_id} at {self.attended_at}>"
