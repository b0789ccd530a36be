"""The built-in election domain: models, factories, phases and scenarios."""

from pytest_demoseed.election import models
from pytest_demoseed.election.models import (
    Attendance,
    Base,
    Candidate,
    Committee,
    Election,
    Elector,
    Guarantee,
    Member,
    Party,
)

__all__ = [
    "Attendance",
    "Base",
    "Candidate",
    "Committee",
    "Election",
    "Elector",
    "Guarantee",
    "Member",
    "Party",
    "models",
]
