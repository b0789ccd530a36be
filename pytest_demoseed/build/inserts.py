"""What an ORM insert of a batch would store: defaults applied and ``None`` sent as the ORM sends it.

The builder writes rows without the ORM, but a row it writes must read back exactly as if the
application had added the same object to a session and flushed it. For every column of a batch's
table this module decides, once per (table, columns) shape, what the ORM's unit of work does:

* a column the batch leaves out, or gives as ``None``, whose ``default=`` is a Python value or
  callable, gets that default, computed here per row (callables with a small stand-in for the
  INSERT's execution context, so ``context.get_current_parameters()`` works);
* one whose default is a SQL expression gets it rendered into the INSERT (``inline``);
* one the server fills (``server_default``, ``Computed``, an autoincrement key left out) is left
  out of the INSERT; a batch giving ``None`` there has those rows written without the column;
* every other ``None`` is sent as ``None`` through the column type's bind processing, so a
  ``TypeDecorator`` that stores ``None`` as ``''`` stores ``''`` here too.

A shape whose table the server fills is ``server_filled``: the builder's own fingerprint cannot
know those values, so it reads that table back (:mod:`pytest_demoseed.build.fingerprint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pytest_demoseed.build.binds import ColumnBind, column_bind
from pytest_demoseed.errors import ScenarioError

__all__ = ["InsertShape", "Part", "insert_shape"]

Row = Sequence[Any]


class _DefaultContext:
    """The part of an INSERT's execution context a context-sensitive ``default=`` reads."""

    __slots__ = ("current_parameters",)

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.current_parameters = parameters

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


@dataclass(frozen=True)
class _PythonDefault:
    """A column's Python-side ``default=``: a constant, or a callable given the row so far."""

    column: sa.Column[Any]

    @property
    def wants_row(self) -> bool:
        return bool(getattr(self.column.default, "is_callable", False))

    def value(self, parameters: dict[str, Any] | None) -> Any:
        default: Any = self.column.default
        if not default.is_callable:
            return default.arg
        try:
            return default.arg(_DefaultContext(parameters or {}))
        except Exception as exc:
            raise ScenarioError(
                f"column {self.column.table.name}.{self.column.key}: its default= failed outside "
                f"the ORM ({type(exc).__name__}: {exc}); give the column in the phase"
            ) from None


def _python_default(column: sa.Column[Any]) -> _PythonDefault | None:
    default = column.default
    if isinstance(default, sa.ColumnDefault) and (default.is_scalar or default.is_callable):
        return _PythonDefault(column)
    return None


def _server_fills(column: sa.Column[Any]) -> bool:
    """Whether the database makes this column's value when an INSERT leaves it out."""
    if column.server_default is not None or column.computed is not None:
        return True
    default = column.default
    if isinstance(default, sa.ColumnDefault) and default.is_clause_element:
        return True
    return column is column.table.autoincrement_column


@dataclass(frozen=True)
class Part:
    """Rows written by one INSERT statement: the columns it names and the values, bound."""

    columns: tuple[str, ...]
    inline: tuple[tuple[str, str], ...]
    rows: Sequence[Row]


@dataclass(frozen=True)
class InsertShape:
    """How a batch of one (table, columns) shape becomes what the ORM would insert."""

    table: sa.Table
    #: The batch's columns, then the ones this shape adds (Python defaults, bound ``None``s).
    columns: tuple[str, ...]
    #: Batch columns (by position) whose ``None`` becomes their Python default.
    none_defaults: tuple[tuple[int, _PythonDefault], ...]
    #: Added columns and how each row's value is made.
    added: tuple[_PythonDefault | Any, ...]
    #: Batch columns (by position) whose ``None`` leaves the column to the server.
    none_to_server: tuple[int, ...]
    #: Columns left out of the batch whose SQL-expression default the INSERT renders.
    inline: tuple[tuple[str, str], ...]
    #: Columns of ``columns`` (by position) whose type binds values, and how, a column at a time.
    processors: tuple[tuple[int, ColumnBind], ...]
    #: Whether the server makes some values of this table (so its fingerprint is read back).
    server_filled: bool

    @property
    def is_plain(self) -> bool:
        """Rows go out as given: nothing to add, no ``None`` to replace."""
        return not (self.none_defaults or self.added or self.none_to_server)

    def complete(self, rows: Sequence[Row]) -> Sequence[Row]:
        """The rows with every value the ORM would send, in ``columns`` order, not yet bound."""
        if self.is_plain or not rows:
            return rows
        names = self.columns
        wants_row = any(isinstance(a, _PythonDefault) and a.wants_row for a in self.added) or any(
            d.wants_row for _, d in self.none_defaults
        )
        out: list[Row] = []
        for row in rows:
            values = list(row)
            params = dict(zip(names, values, strict=False)) if wants_row else None  # batch's columns
            for index, default in self.none_defaults:
                if values[index] is None:
                    values[index] = default.value(params)
                    if params is not None:
                        params[names[index]] = values[index]
            for added, name in zip(self.added, names[len(row) :], strict=True):
                value = added.value(params) if isinstance(added, _PythonDefault) else added
                values.append(value)
                if params is not None:
                    params[name] = value
            out.append(values)
        return out

    def parts(self, rows: Sequence[Row], by_column: Sequence[Sequence[Any]] | None = None) -> list[Part]:
        """The INSERT statements for completed ``rows``, values bound: one, or one per set of
        columns a ``None`` left to the server. ``by_column``, the same values a column at a
        time when the caller has them, saves transposing the rows to bind them."""
        if not self.none_to_server or not any(row[i] is None for row in rows for i in self.none_to_server):
            return [Part(self.columns, self.inline, self._bind(self.processors, rows, by_column))]
        groups: dict[tuple[int, ...], list[Row]] = {}
        for row in rows:
            left_out = tuple(i for i in self.none_to_server if row[i] is None)
            groups.setdefault(left_out, []).append(row)
        parts = []
        for left_out, group in groups.items():  # insertion order: the order rows came in
            keep = [i for i in range(len(self.columns)) if i not in left_out]
            position = {old: new for new, old in enumerate(keep)}
            processors = tuple((position[i], p) for i, p in self.processors if i in position)
            kept_rows = [[row[i] for i in keep] for row in group]
            columns = tuple(self.columns[i] for i in keep)
            parts.append(Part(columns, self.inline, self._bind(processors, kept_rows)))
        return parts

    @staticmethod
    def _bind(
        processors: tuple[tuple[int, ColumnBind], ...],
        rows: Sequence[Row],
        by_column: Sequence[Sequence[Any]] | None = None,
    ) -> Sequence[Row]:
        """The rows with each processed column bound, a column at a time (C-level transposes
        and maps, no Python code per value where the column's binder has a fast path)."""
        if not processors or not rows:
            return rows
        columns: list[Sequence[Any]] = list(by_column if by_column is not None else zip(*rows, strict=True))
        for index, bind in processors:
            columns[index] = bind(columns[index])
        return list(zip(*columns, strict=True))


def _binds_none_as_value(column: sa.Column[Any], dialect: sa.Dialect) -> bool:
    """Whether the column's type stores ``None`` as a value (a ``TypeDecorator`` making ``''``)."""
    processor = column.type._cached_bind_processor(dialect)
    if processor is None:
        return False
    try:
        return processor(None) is not None
    except Exception:  # a type that refuses None: the ORM would fail the same way; send NULL
        return False


def insert_shape(table: sa.Table, columns: tuple[str, ...], dialect: sa.Dialect) -> InsertShape:
    """Decide once, for a batch of ``columns`` into ``table``, what each insert stores."""
    missing = [name for name in columns if name not in table.c]
    if missing:
        raise ScenarioError(f"table {table.name!r} has no column {missing[0]!r}")
    given = set(columns)
    none_defaults: list[tuple[int, _PythonDefault]] = []
    none_to_server: list[int] = []
    for index, name in enumerate(columns):
        column = table.c[name]
        if column.type.should_evaluate_none:
            continue
        default = _python_default(column)
        if default is not None:
            none_defaults.append((index, default))
        elif _server_fills(column) and not column.primary_key:
            none_to_server.append(index)
    added_names: list[str] = []
    added: list[_PythonDefault | Any] = []
    inline: list[tuple[str, str]] = []
    server_filled = bool(none_to_server)
    for column in table.columns:
        if column.key in given:
            continue
        default = _python_default(column)
        if default is not None:
            added_names.append(column.key)
            added.append(default)
        elif isinstance(column.default, sa.ColumnDefault) and column.default.is_clause_element:
            expression = column.default.arg.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            inline.append((column.key, str(expression)))
            server_filled = True
        elif _server_fills(column):
            server_filled = True
        elif column.nullable and _binds_none_as_value(column, dialect):  # the ORM sends its None
            added_names.append(column.key)
            added.append(None)
    all_columns = (*columns, *added_names)
    processors = []
    for index, name in enumerate(all_columns):
        bind = column_bind(table.c[name].type, dialect)
        if bind is not None:
            processors.append((index, bind))
    return InsertShape(
        table=table,
        columns=all_columns,
        none_defaults=tuple(none_defaults),
        added=tuple(added),
        none_to_server=tuple(none_to_server),
        inline=tuple(inline),
        processors=tuple(processors),
        server_filled=server_filled,
    )
