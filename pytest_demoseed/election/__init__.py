"""The built-in election domain: models, factories, phases and scenarios.

The models load on first use (PEP 562), so that pytest importing this domain's fixtures plugin
(``pytest_demoseed.election.fixtures``) does not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'pytest_demoseed.election' has no attribute {name!r}")
    models = importlib.import_module("pytest_demoseed.election.models")
    value = models if name == "models" else getattr(models, name)
    globals()[name] = value
    return value
