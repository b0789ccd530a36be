"""The built-in election domain: models, factories, phases and scenarios."""

from . import models
from .models import (
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
