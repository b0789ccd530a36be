"""factory_boy factories for the notes app (no session: the tests bind them to theirs)."""

from __future__ import annotations

import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory

from . import models


class NotebookFactory(SQLAlchemyModelFactory):
    class Meta:
        model = models.Notebook
        sqlalchemy_session_persistence = "flush"

    title = factory.Sequence(lambda n: f"Factory notebook {n}")


class NoteFactory(SQLAlchemyModelFactory):
    class Meta:
        model = models.Note
        sqlalchemy_session_persistence = "flush"

    title = factory.Sequence(lambda n: f"Factory note {n}")
    body = factory.Faker("sentence")
    created_at = dt.datetime(2026, 3, 1, 9, 0)
