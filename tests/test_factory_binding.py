"""A project's own factories bound to the test's session in each style a project wires them, all
committing: nothing a test makes (or deletes, through cascades) outlives it, in either order."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
from models import LIBRARY_MODELS

from pytest_demoseed.scenario import registry

SCENARIO = """
from pytest_demoseed import Batch, Scenario, phase
from library_app.models import Base


@phase("library", tables=("shelves", "books", "tags"))
def library(ctx):
    shelves = list(ctx.allocate("shelves", 3))
    yield Batch("shelves", ("id", "name"), [(s, f"shelf {s}") for s in shelves])
    books = ctx.allocate("books", 9)
    rows = [(b, shelves[i % 3], ctx.faker.sentence()) for i, b in enumerate(books)]
    yield Batch("books", ("id", "shelf_id", "title"), rows)
    yield Batch("tags", ("code", "label"), [(f"T{i:03d}", ctx.faker.word()) for i in range(1, 5)])


LIBRARY = Scenario(
    name="library", description="3 shelves, 9 books, 4 tags", phases=(library,), metadata=Base.metadata
)
"""

DB = """
from sqlalchemy.orm import scoped_session, sessionmaker

SessionLocal = sessionmaker()      # configured by the app at start-up
session = None                     # a plain global the app assigns a Session to
Scoped = scoped_session(sessionmaker())
"""

#: The same factories in the four binding styles, each committing.
FACTORY_BODY = """
class ShelfFactory(Base):
    class Meta:
        model = models.Shelf

    name = factory.Sequence(lambda n: f"new shelf {n}")


class BookFactory(Base):
    class Meta:
        model = models.Book

    shelf = factory.SubFactory(ShelfFactory)
    title = factory.Faker("sentence")


class TagFactory(Base):
    class Meta:
        model = models.Tag

    code = factory.Sequence(lambda n: f"X{n:03d}")
    label = "new"


ALL = (ShelfFactory, BookFactory, TagFactory)
"""

STYLES = {
    "runtime": """
class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = None          # the app sets ShelfFactory._meta.sqlalchemy_session = ...
        sqlalchemy_session_persistence = "commit"
""",
    "session_factory": """
class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.SessionLocal()
        sqlalchemy_session_persistence = "commit"
""",
    "global_session": """
class Base(factory.Factory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        db.session.add(obj)
        db.session.commit()
        return obj
""",
    "global_scoped": """
class Base(factory.Factory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        session = db.Scoped()
        obj = model_class(*args, **kwargs)
        session.add(obj)
        session.commit()
        return obj
""",
}

BIND = {
    "runtime": "demo_bind_factories(factories)",
    "session_factory": "demo_bind_factories(*factories.ALL)",
    "global_session": "demo_bind_factories(module_globals=[(db, 'session')])",
    "global_scoped": "demo_bind_factories(module_globals=[(db, 'Scoped')])",
}

STYLE_TESTS = """
import sqlalchemy as sa
from library_app import db
from library_app import {style}_factories as factories
from library_app.models import Book, Shelf, Tag



def bindings():
    meta = factories.BookFactory._meta
    return (db.session, db.Scoped, getattr(meta, "sqlalchemy_session", None),
            getattr(meta, "sqlalchemy_session_factory", None))


ORIGINAL = bindings()


def count(session, column):
    return session.scalar(sa.select(sa.func.count(column)))


def counts(session):
    return count(session, Shelf.id), count(session, Book.id), count(session, Tag.code)


def test_creates(demo_session, demo_bind_factories):
    {bind}
    factories.BookFactory.create_batch(2)
    tag = factories.TagFactory()
    assert tag.code.startswith("X")
    assert counts(demo_session) == (5, 11, 5)


def test_commits_then_fails(demo_session, demo_bind_factories):
    {bind}
    factories.BookFactory()
    assert count(demo_session, Book.id) == 10
    assert False, "fails after committing"


def test_sees_the_scenario(demo_session):
    assert counts(demo_session) == (3, 9, 4)
    assert demo_session.get(Tag, "X001") is None and demo_session.get(Tag, "T001") is not None
    assert bindings() == ORIGINAL  # every binding was undone
"""

CASCADE_TESTS = """
import sqlalchemy as sa
from library_app.models import Book, Shelf


def test_delete_parent_cascades(demo_session):
    shelf = demo_session.get(Shelf, 1)
    demo_session.delete(shelf)
    demo_session.commit()
    assert demo_session.get(Shelf, 1) is None
    assert demo_session.scalar(sa.select(sa.func.count(Book.id)).where(Book.shelf_id == 1)) == 0


def test_orphan_is_deleted(demo_session):
    shelf = demo_session.get(Shelf, 2)
    shelf.books.pop()
    demo_session.commit()
    assert demo_session.scalar(sa.select(sa.func.count(Book.id))) == 8


def test_parent_and_children_are_back(demo_session):
    assert [len(s.books) for s in demo_session.scalars(sa.select(Shelf).order_by(Shelf.id))] == [3, 3, 3]
"""


#: Runs last in either order: every row of every table is what the scenario wrote.
AFTER_TESTS = """
from library_app.models import Base

from pytest_demoseed.build.fingerprint import fingerprint_database


def test_nothing_is_left_behind(demo_connection, demo_dataset):
    assert fingerprint_database(demo_connection, Base.metadata).hexdigest() == demo_dataset.fingerprint
    assert demo_dataset.counts == {"books": 9, "shelves": 3, "tags": 4}
"""


@pytest.fixture(autouse=True)
def _own_registry() -> Iterator[None]:
    """Scenarios a test registers (``seed(Scenario)`` does) do not outlive it; in-process inner
    runs get their own registry from the plugin."""
    with registry.using(registry.Registry()):
        yield


@pytest.fixture()
def library(pytester: pytest.Pytester) -> pytest.Pytester:
    package = pytester.path / "library_app"
    package.mkdir()
    files = {"__init__.py": "", "models.py": LIBRARY_MODELS, "scenarios.py": SCENARIO, "db.py": DB}
    header = "import factory\nfrom factory.alchemy import SQLAlchemyModelFactory\n"
    header += "from library_app import db, models\n"
    for style, base in STYLES.items():
        files[f"{style}_factories.py"] = header + textwrap.dedent(base) + FACTORY_BODY
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))
    pytester.makeini("[pytest]\npythonpath = .\ndemo_scenario = library\n")
    pytester.makeconftest(
        "from pytest_demoseed import register\nfrom library_app.scenarios import LIBRARY\nregister(LIBRARY)\n"
    )
    for style, bind in BIND.items():
        pytester.makepyfile(**{f"test_{style}": STYLE_TESTS.format(style=style, bind=bind)})
    pytester.makepyfile(test_cascade=CASCADE_TESTS, test_zz_after=AFTER_TESTS)
    return pytester


def node_ids(order: str) -> list[str]:
    names = ["test_creates", "test_commits_then_fails", "test_sees_the_scenario"]
    cascade = ["test_delete_parent_cascades", "test_orphan_is_deleted", "test_parent_and_children_are_back"]
    if order == "reversed":
        names, cascade = names[::-1], cascade[::-1]
    ids = [f"test_{style}.py::{name}" for style in STYLES for name in names]
    after = "test_zz_after.py::test_nothing_is_left_behind"
    return [*ids, *(f"test_cascade.py::{name}" for name in cascade), after]


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_committing_factories_leave_nothing_behind_in_every_binding_style(
    library: pytest.Pytester, order: str
) -> None:
    ids = node_ids(order)
    result = library.runpytest("-p", "no:randomly", "-v", *ids)
    result.assert_outcomes(passed=len(ids) - len(STYLES), failed=len(STYLES))
    ran = [line.split(" ")[0] for line in result.outlines if " PASSED" in line or " FAILED" in line]
    assert ran[: len(ids)] == ids  # the order asked for
    failures = [line for line in result.outlines if line.startswith("FAILED")]
    assert all("test_commits_then_fails" in line for line in failures), failures


def test_binding_a_module_binds_its_concrete_factories_only(library: pytest.Pytester) -> None:
    library.syspathinsert()
    from library_app import runtime_factories  # type: ignore[import-not-found]

    from pytest_demoseed import factories_in

    assert factories_in(runtime_factories) == [
        runtime_factories.ShelfFactory,
        runtime_factories.BookFactory,
        runtime_factories.TagFactory,
    ]
