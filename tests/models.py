"""The suite's own models, in one place: every schema a test builds over besides the election
domain's (``pytest_demoseed.election.models``).

Imported by tests: ``Team``/``Player`` (factory_boy columns), ``THINGS`` (the library API's
failure cases), ``PEOPLE`` (the writers). Source texts, written into a pytester project as a
user's own package: ``NOTES_MODELS``/``NOTES_EXTRA`` (``notes_app``, user scenarios),
``POLLS_MODELS`` (the README's scenario example), ``LIBRARY_MODELS`` (``library_app``, factory
binding styles).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# --- in-process models ------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))


class Player(Base):
    __tablename__ = "players"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    handle: Mapped[str] = mapped_column(sa.String(120))
    gender: Mapped[str] = mapped_column(sa.String(1))
    first: Mapped[str] = mapped_column(sa.String(60))
    born: Mapped[dt.date] = mapped_column(sa.Date)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    shirt: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[str] = mapped_column(sa.String(10))
    score: Mapped[int] = mapped_column(sa.Integer)
    phone: Mapped[str] = mapped_column(sa.String(20))
    city: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[str] = mapped_column(sa.String(10))
    born_year: Mapped[int] = mapped_column(sa.Integer)
    league: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(10), default="active")
    origin: Mapped[str] = mapped_column(sa.String(10), default=lambda: "seeded")
    token: Mapped[str | None] = mapped_column(sa.String(40))
    team: Mapped[Team] = relationship()


#: One table the library API writes 10 rows into before failing on purpose.
THINGS = sa.MetaData()
sa.Table("things", THINGS, sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(20)))

#: A table with a column of each kind the writers must round-trip.
PEOPLE_METADATA = sa.MetaData()
PEOPLE = sa.Table(
    "people",
    PEOPLE_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=True),
    sa.Column("born", sa.Date),
    sa.Column("score", sa.Float),
    sa.Column("active", sa.Boolean),
    sa.Column("seen", sa.DateTime, nullable=True),
)


# --- a user's package, as source written into a pytester project ---------------------------------

#: ``notes_app/models.py``: an integer-keyed notebook with notes, and a string-keyed label.
NOTES_MODELS = """
import datetime as dt
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Notebook(Base):
    __tablename__ = "notebooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(80))
    notes: Mapped[list["Note"]] = relationship(back_populates="notebook", cascade="all, delete-orphan")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(sa.ForeignKey("notebooks.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    written_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    label_code: Mapped[str | None] = mapped_column(sa.ForeignKey("labels.code"))
    notebook: Mapped[Notebook] = relationship(back_populates="notes")


class Label(Base):
    __tablename__ = "labels"
    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
"""

#: ``notes_app/extra.py``: a table outside the scenario's metadata, made from ``demo_metadata``.
NOTES_EXTRA = """
import sqlalchemy as sa

metadata = sa.MetaData()
preferences = sa.Table("preferences", metadata, sa.Column("key", sa.String(40), primary_key=True))
"""

#: ``myapp/models.py``: the models the README's own-scenario example imports.
POLLS_MODELS = """
import datetime as dt
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Poll(Base):
    __tablename__ = "polls"
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(sa.String(200))


class Vote(Base):
    __tablename__ = "votes"
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("polls.id"))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
"""

#: ``library_app/models.py``: shelves and books (a cascade), tags (string keys).
LIBRARY_MODELS = '''
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    books: Mapped[list["Book"]] = relationship(back_populates="shelf", cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(sa.ForeignKey("shelves.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    shelf: Mapped[Shelf] = relationship(back_populates="books")


class Tag(Base):
    """A string primary key: the scenario's phase assigns the keys itself."""
    __tablename__ = "tags"
    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40))
'''
