"""Bind existing factory_boy factories to a test's session, whichever way a project wires them.

Projects bind SQLAlchemy factories in one of three ways: ``_meta.sqlalchemy_session`` set at
runtime, ``sqlalchemy_session_factory``, or a module global that an overridden ``_create``
reads. :func:`bound_factories` handles all three for the duration of a test and restores what
was there. A factory with ``sqlalchemy_session_persistence="commit"`` then commits into the
test's SAVEPOINT, which the test's rollback undoes. Pass factory classes, or modules to bind
every concrete factory they define.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, cast

import sqlalchemy as sa
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from pytest_demoseed.scenario.keys import integer_primary_key

__all__ = ["bound_factories", "factories_in", "reset_sequences"]

_MISSING = object()


def _table_of(factory_cls: Any) -> sa.Table | None:
    model = getattr(factory_cls._meta, "model", None)
    table = getattr(model, "__table__", None)
    return table if isinstance(table, sa.Table) else None


def reset_sequences(
    session: Session, factories: Sequence[Any], used: Mapping[str, int] | None = None
) -> None:
    """Start each factory's sequence past every number its table's rows used.

    That is past the table's highest integer key, and past ``used`` (``Dataset.sequences``: per
    table, the next number the scenario's build left unused), which covers tables with string or
    composite keys. Values derived from the sequence (keys, codes, emails, paths) then never
    collide with rows the scenario wrote: factory_boy's own open request, solved for our users.
    """
    for factory_cls in factories:
        table = _table_of(factory_cls)
        if table is None:
            continue
        start = (used or {}).get(table.key, 0)
        key = integer_primary_key(table)
        if key is not None:
            start = max(start, int(session.execute(sa.select(sa.func.max(key))).scalar() or 0))
        if start or key is not None:
            factory_cls.reset_sequence(start, force=True)


def factories_in(module: ModuleType) -> list[Any]:
    """The concrete SQLAlchemy factories ``module`` defines, in definition order."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, SQLAlchemyModelFactory)
        and value.__module__ == module.__name__
        and not cast(Any, value)._meta.abstract
    ]


def _stand_in(original: Any, session: Session) -> Any:
    """What replaces a module global: the session, or for a session factory (``sessionmaker``,
    ``scoped_session``, a function) a ``scoped_session`` whose every call returns the session."""
    if original is _MISSING or original is None or isinstance(original, Session) or not callable(original):
        return session
    return scoped_session(cast("sessionmaker[Session]", lambda: session))


@contextmanager
def bound_factories(
    session: Session,
    *factories: Any,
    module_globals: Sequence[tuple[ModuleType, str]] = (),
    reset: bool = True,
    sequences: Mapping[str, int] | None = None,
) -> Iterator[None]:
    """Bind ``factories`` (classes, or modules of them) and ``module.NAME`` globals to ``session``
    inside the block; sequences start past the rows already there (and past ``sequences``, the
    build's ``Dataset.sequences``) unless ``reset=False``."""
    factories = tuple(
        found
        for item in factories
        for found in (factories_in(item) if isinstance(item, ModuleType) else [item])
    )
    saved: list[tuple[Any, str, Any]] = []
    try:
        for factory_cls in factories:
            meta = factory_cls._meta
            for attribute, value in (
                ("sqlalchemy_session", session),
                ("sqlalchemy_session_factory", None),
            ):
                saved.append((meta, attribute, getattr(meta, attribute, _MISSING)))
                setattr(meta, attribute, value)
        for module, name in module_globals:
            original = getattr(module, name, _MISSING)
            saved.append((module, name, original))
            setattr(module, name, _stand_in(original, session))
        if reset:
            reset_sequences(session, factories, sequences)
        yield
    finally:
        for owner, attribute, value in reversed(saved):
            if value is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, value)
