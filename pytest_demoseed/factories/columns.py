"""Turn a factory_boy SQLAlchemy factory into batches of rows: the factory stays the declaration.

:func:`compile_factory` reads a factory's declarations and compiles each one it understands into
a column generator that fills a whole batch at once from a seeded ``random.Random`` and Faker's
locale word lists (constants, ``Sequence``, ``LazyAttribute``, ``LazyAttributeSequence``,
``SelfAttribute``, ``Maybe``, ``Iterator``, ``Params`` and the ``factory.Faker`` providers
:func:`~pytest_demoseed.factories.faker_pools.faker_column` maps). :func:`factory_batches` streams the rows
of one phase: batch by batch, so memory stays bounded whatever the count.

A declaration it cannot take (``LazyFunction``, an unmapped Faker provider, a custom declaration,
an attribute that is not a column) falls back to the factory itself: each row of the batch is
``Factory.build(**values_already_compiled)``, with factory_boy's random reseeded from the phase's
stream first, so it stays deterministic; the rows still go out in the same batches, and the
phase's context notes the fallback for the terminal summary.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import factory
import factory.random
import sqlalchemy as sa
from factory import declarations as decl
from faker import Faker

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.factories.faker_pools import faker_column
from pytest_demoseed.generate.determinism import derive_seed
from pytest_demoseed.scenario.context import PhaseContext
from pytest_demoseed.scenario.declare import Batch
from pytest_demoseed.scenario.keys import integer_primary_key

__all__ = ["BatchColumn", "FactoryPlan", "compile_factory", "factory_batches"]

#: Computes one declaration's values for every row of the batch being made.
ColumnFn = Callable[["_BatchState"], list[Any]]


@dataclass(frozen=True)
class BatchColumn:
    """A ``fixed`` column the phase draws a batch at a time: ``draw(start, stop)`` gives the
    values of rows ``start`` to ``stop - 1`` (e.g. foreign keys drawn from its own stream)."""

    draw: Callable[[int, int], Sequence[Any]]


@dataclass(frozen=True)
class FactoryPlan:
    """What :func:`compile_factory` made of a factory.

    ``compiled`` maps declaration names to column generators, ``fallback`` maps the names it
    could not take to the reason (those are built per row by the factory), ``subfactories``
    names the declarations whose foreign keys the phase must give in ``fixed``.
    """

    factory: type[Any]
    table: sa.Table
    order: tuple[str, ...]
    compiled: Mapping[str, ColumnFn]
    fallback: Mapping[str, str]
    subfactories: tuple[str, ...]
    post_declarations: tuple[str, ...] = ()
    attribute_columns: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.factory.__name__

    def describe_fallback(self) -> str:
        """``Factory.x (reason), ...``: the declarations built per row, for the summary."""
        return ", ".join(f"{self.name}.{name} ({why})" for name, why in self.fallback.items())


class _ReadsFallback(Exception):
    """A compiled declaration read one the factory builds per row: it must be built so too."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _RowView:
    """What a ``LazyAttribute`` sees as ``o``: the current row's values.

    The first read of a name computes that declaration's whole column and subscribes the view
    to it; from then on :meth:`_BatchState.rows` copies the row's value into the view's
    ``__dict__`` before each call, so a read is a plain attribute lookup.
    """

    factory_parent = None

    def __init__(self, state: _BatchState) -> None:
        self.__dict__["_demoseed_state"] = state
        self.__dict__["_demoseed_row"] = 0
        self.__dict__["_demoseed_feeds"] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_demoseed_"):
            raise AttributeError(name)
        values = self._demoseed_state.column(name)
        self._demoseed_feeds.append((name, values))
        value = values[self._demoseed_row]
        self.__dict__[name] = value
        return value


class _BatchState:
    """One batch under construction: each declaration's column, computed once, on first use."""

    def __init__(
        self,
        compiled: Mapping[str, ColumnFn],
        fallback: Mapping[str, str],
        size: int,
        rng: random.Random,
        sequence: Sequence[int],
        values: dict[str, list[Any]],
        run: dict[str, Any],
    ) -> None:
        self.compiled = compiled
        self.fallback = fallback
        self.size = size
        self.rng = rng
        self.sequence = sequence
        self.values = values
        self.run = run
        self._pending: list[str] = []

    def column(self, name: str) -> list[Any]:
        found = self.values.get(name)
        if found is not None:
            return found
        if name in self.fallback:
            if not self._pending:
                raise ScenarioError(f"{name!r} is built per row and cannot be read as a column")
            raise _ReadsFallback(self._pending[-1])
        compute = self.compiled.get(name)
        if compute is None:
            raise AttributeError(
                f"a declaration read {name!r}, which the batch path does not make (a SubFactory, "
                "or neither declared nor given in fixed=)"
            )
        if name in self._pending:
            raise ScenarioError(f"cyclic declarations: {' -> '.join([*self._pending, name])}")
        self._pending.append(name)
        try:
            values = compute(self)
        finally:
            self._pending.pop()
        self.values[name] = values
        return values

    def rows(self, function: Callable[..., Any], with_sequence: bool = False) -> list[Any]:
        """``function(o)`` (or ``function(o, n)``) for every row: a lazy declaration's column."""
        view = _RowView(self)
        slots = view.__dict__
        feeds = slots["_demoseed_feeds"]
        sequence = self.sequence
        out = []
        for row in range(self.size):
            slots["_demoseed_row"] = row
            for name, values in feeds:
                slots[name] = values[row]
            out.append(function(view, sequence[row]) if with_sequence else function(view))
        return out


# --- compiling declarations ---------------------------------------------------------------------


def _is_declaration(value: Any) -> bool:
    return isinstance(value, decl.BaseDeclaration)


def _deep_get(value: Any, path: Sequence[str], default: Any) -> Any:
    try:
        for part in path:
            value = getattr(value, part)
    except AttributeError:
        if default is decl._UNSPECIFIED:
            raise
        return default
    return value


class _Compiler:
    """Compiles declarations into column functions, or says why one cannot be compiled."""

    def __init__(self, faker: Faker) -> None:
        self.faker = faker
        self._fakers: dict[str, Faker] = {}

    def _faker_for(self, locale: str | None) -> Faker:
        if locale is None or locale in self.faker.locales:
            return self.faker
        if locale not in self._fakers:
            self._fakers[locale] = Faker(locale)
        return self._fakers[locale]

    def compile(self, name: str, value: Any) -> ColumnFn | str:
        """A column function for ``value``, or the reason the batch path cannot take it."""
        if value is decl.SKIP:
            return "Maybe/Trait that skips the attribute"
        if not _is_declaration(value):
            return lambda state: [value] * state.size
        if isinstance(value, decl.LazyAttributeSequence):
            function = value.function
            return lambda state: state.rows(function, with_sequence=True)
        if isinstance(value, decl.Sequence):
            function = value.function
            return lambda state: [function(n) for n in state.sequence]
        if isinstance(value, decl.LazyAttribute):
            function = value.function
            return lambda state: state.rows(function)
        if isinstance(value, decl.SelfAttribute):
            return self._self_attribute(value)
        if isinstance(value, decl.Maybe):
            return self._maybe(name, value)
        if isinstance(value, decl.Iterator):
            return self._iterator(name, value)
        if isinstance(value, factory.Faker):
            return self._faker(value)
        return type(value).__name__

    def _self_attribute(self, value: decl.SelfAttribute) -> ColumnFn | str:
        if value.depth > 1:
            return "SelfAttribute of a parent factory"
        first, *rest = value.attribute_name.split(".")
        default = value.default

        def column(state: _BatchState) -> list[Any]:
            try:
                base = state.column(first)
            except AttributeError:
                if default is decl._UNSPECIFIED:
                    raise
                return [default] * state.size
            if not rest:
                return list(base)
            return [_deep_get(item, rest, default) for item in base]

        return column

    def _maybe(self, name: str, value: decl.Maybe) -> ColumnFn | str:
        parts = [self.compile(name, part) for part in (value.decider, value.yes, value.no)]
        reasons = [part for part in parts if isinstance(part, str)]
        if reasons:
            return f"Maybe with {reasons[0]}"
        decide, yes, no = parts
        assert callable(decide) and callable(yes) and callable(no)

        def column(state: _BatchState) -> list[Any]:
            choices = decide(state)
            when_yes, when_no = yes(state), no(state)
            return [y if c else n for c, y, n in zip(choices, when_yes, when_no, strict=True)]

        return column

    def _iterator(self, name: str, value: decl.Iterator) -> ColumnFn:
        getter = value.getter

        def column(state: _BatchState) -> list[Any]:
            key = f"iterator:{name}"
            if key not in state.run:  # a fresh iterator per run, never the factory's shared one
                state.run[key] = iter(value.iterator_builder())
            source = state.run[key]
            try:
                values = [next(source) for _ in range(state.size)]
            except StopIteration:
                raise ScenarioError(f"factory.Iterator for {name!r} ran out of values") from None
            return values if getter is None else [getter(item) for item in values]

        return column

    def _faker(self, value: factory.Faker) -> ColumnFn | str:
        kwargs = dict(value._defaults)
        locale = kwargs.pop("locale", None)
        if any(_is_declaration(arg) for arg in kwargs.values()):
            return f"Faker {value.provider!r} with declared arguments"
        draw = faker_column(self._faker_for(locale), value.provider, kwargs)
        if draw is None:
            return f"Faker {value.provider!r}"
        return lambda state: draw(state.rng, state.size)


def _model_of(factory_class: type[Any]) -> tuple[sa.orm.Mapper[Any], sa.Table]:
    model = getattr(getattr(factory_class, "_meta", None), "model", None)
    try:
        mapper = sa.inspect(model)
    except sa.exc.NoInspectionAvailable:
        raise ScenarioError(f"{factory_class!r} is not a factory of a SQLAlchemy model") from None
    table = mapper.local_table
    joined = mapper.inherits is not None and mapper.inherits.local_table is not table
    if not isinstance(table, sa.Table) or joined:
        raise ScenarioError(f"{factory_class.__name__}: its model does not map to one table")
    return mapper, table


def compile_factory(factory_class: type[Any], faker: Faker) -> FactoryPlan:
    """Compile ``factory_class``'s declarations into column generators over ``faker``'s locale.

    ``faker`` only provides word lists (its locale); values are drawn from the stream that
    :func:`factory_batches` passes in, never from factory_boy's or Faker's shared random.
    """
    mapper, table = _model_of(factory_class)
    meta = factory_class._meta
    declared = meta.pre_declarations
    compiler = _Compiler(faker)
    compiled: dict[str, ColumnFn] = {}
    fallback: dict[str, str] = {}
    subfactories: list[str] = []
    attribute_columns = {
        prop.key: prop.columns[0].key for prop in mapper.column_attrs if prop.columns[0].table is table
    }
    hidden = set(meta.parameters) | set(meta.exclude)
    order = tuple(declared.sorted())
    for name in order:
        value = declared[name].declaration
        target = meta.rename.get(name, name)
        if isinstance(value, decl.SubFactory):
            subfactories.append(name)  # its rows are not made here: the phase gives the key
            continue
        if declared[name].context:
            fallback[name] = "declared with sub-arguments (x__y)"
            continue
        result = compiler.compile(name, value)
        if isinstance(result, str):
            fallback[name] = result
        elif name in hidden or target in attribute_columns or target in mapper.relationships:
            compiled[name] = result
        else:
            fallback[name] = f"{target!r} is not a column of {table.name}: set by the model"
    return FactoryPlan(
        factory=factory_class,
        table=table,
        order=order,
        compiled=compiled,
        fallback=fallback,
        subfactories=tuple(subfactories),
        post_declarations=tuple(meta.post_declarations.sorted()),
        attribute_columns=attribute_columns,
    )


# --- streaming batches --------------------------------------------------------------------------


FixedFn = Callable[[int, int], Sequence[Any]]


def _fixed_fn(value: Any) -> FixedFn:
    """A ``fixed`` value as ``(start, stop) -> values``: batch column, per row, or constant."""
    if isinstance(value, BatchColumn):
        return value.draw
    if callable(value):
        return lambda start, stop: [value(row) for row in range(start, stop)]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return lambda start, stop: value[start:stop]
    return lambda start, stop: [value] * (stop - start)


@dataclass
class _Layout:
    """Which table column comes from where, once ``fixed`` is known.

    ``sources`` holds, per column, the declaration or fixed name it is read from, ``none:``
    for a relationship declared as None, or ``build:`` for a column only the factory sets.
    """

    columns: list[str]
    sources: list[str]
    fixed: dict[str, FixedFn]
    kwargs: dict[str, str]  # value name -> keyword the per-row factory gets it as
    passed_as_none: list[str]  # relationship declarations the fixed foreign keys replace
    #: declarations ``fixed`` provides (never evaluated) -> the fixed name they read as ("" for a
    #: relationship whose foreign keys were given)
    covered: dict[str, str] = field(default_factory=dict)


def _local_columns(mapper: sa.orm.Mapper[Any], name: str) -> list[str]:
    rel = mapper.relationships.get(name)
    return [str(pair[0].key) for pair in rel.local_remote_pairs or []] if rel is not None else []


def _layout(plan: FactoryPlan, fixed: Mapping[str, Any]) -> _Layout:
    meta = plan.factory._meta
    mapper = sa.inspect(meta.model)
    column_of = dict(plan.attribute_columns)
    attribute_of = {column: attribute for attribute, column in column_of.items()}
    table_keys = {column.key for column in plan.table.columns}
    by_column: dict[str, str] = {}
    fixed_fns: dict[str, FixedFn] = {}
    kwargs: dict[str, str] = {}
    for key, value in fixed.items():
        fixed_fns[key] = _fixed_fn(value)
        local = _local_columns(mapper, key)
        if local:
            if len(local) != 1:
                raise ScenarioError(f"{plan.name}: give fixed {key!r} by its foreign key columns")
            by_column[local[0]] = key
            kwargs[key] = attribute_of.get(local[0], local[0])
        elif key in column_of or key in table_keys:
            by_column[column_of.get(key, key)] = key
            kwargs[key] = attribute_of.get(column_of.get(key, key), key)
        elif key in plan.order:
            kwargs[key] = key
        else:
            raise ScenarioError(
                f"{plan.name}: fixed {key!r} is neither a column of {plan.table.name} nor declared"
            )
    hidden = set(meta.parameters) | set(meta.exclude)
    passed_as_none: list[str] = []
    covered: dict[str, str] = {}
    for name in plan.order:
        target = meta.rename.get(name, name)
        local = _local_columns(mapper, target)
        given_as = by_column.get(column_of.get(target, ""), "")
        if name in fixed or given_as in fixed:  # fixed wins: the declaration is never evaluated
            covered[name] = name if name in fixed else given_as
            continue
        if name in hidden:
            continue
        if local and all(column in by_column for column in local):
            passed_as_none.append(name)  # the phase gave its foreign keys
            if name not in plan.subfactories:
                covered[name] = ""
        elif local and meta.pre_declarations[name].declaration is None:
            for column in local:
                by_column.setdefault(column, f"none:{name}")
            passed_as_none.append(name)
        elif local or name in plan.subfactories:
            kind = "a SubFactory" if name in plan.subfactories else f"the relationship {target!r}"
            raise ScenarioError(
                f"{plan.name}.{name} is {kind}: give its foreign key in fixed= "
                f"(fixed={{{(local[0] if local else name)!r}: ...}}); the batch path builds no related rows"
            )
        elif target in column_of:
            by_column.setdefault(column_of[target], name if name in plan.compiled else f"build:{name}")
        if name in plan.compiled:
            kwargs.setdefault(name, name)
    if mapper.polymorphic_on is not None and mapper.polymorphic_identity is not None:
        identity = mapper.polymorphic_identity
        on = str(getattr(mapper.polymorphic_on, "key", ""))
        if on in table_keys and on not in by_column:
            fixed_fns[f"default:{on}"] = lambda start, stop: [identity] * (stop - start)
            by_column[on] = f"default:{on}"
    columns = [c.key for c in plan.table.columns if c.key in by_column]
    sources = [by_column[c] for c in columns]
    return _Layout(columns, sources, fixed_fns, kwargs, passed_as_none, covered)


def factory_batches(
    ctx: PhaseContext,
    factory_class: type[Any],
    count: int,
    *,
    ids: Sequence[Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
    batch_size: int = 10_000,
    plan: FactoryPlan | None = None,
) -> Generator[Batch, None, Sequence[Any]]:
    """Stream ``count`` rows of ``factory_class``'s table in batches of ``batch_size``.

    ``ids`` are the rows' primary keys, of any type (integers, strings, UUIDs), for a table with
    a one-column key; a composite key is given column by column in ``fixed``. When the table has
    one integer key and neither ``ids`` nor the factory nor ``fixed`` gives it, keys come from
    ``ctx.allocate``. With integer keys each row's factory sequence number is its key minus one,
    the rule ``demo_factories`` uses, so sequence-made values (codes, emails, national ids) never
    collide with rows a test adds; with other keys (or none given) the numbers go on from the
    table's earlier calls in the build (0, 1, ... in the first). ``Dataset.sequences`` keeps the
    next unused number per table, where ``demo_factories``/``demo_bind_factories`` start.

    ``fixed`` gives what the phase supplies, by column, relationship or declaration name: a
    constant, a per-row sequence (``count`` long), a function of the row index, or a
    :class:`BatchColumn` (a list or tuple is read per row: give a constant list as ``lambda row:
    [...]``). Every SubFactory needs its foreign key there. A declaration that ``fixed`` or
    ``ids`` provides is never evaluated: it costs nothing and never forces the per-row fallback.

    Checks happen at the call (a ScenarioError names the column); rows are made lazily, one
    batch per ``next()``, from a private stream seeded from ``ctx.rng``. The generator returns
    the primary keys of the rows it made, in row order (``ids``, or the allocated ``range``, as
    given; else collected from the rows, one entry per row kept in memory: a value, or a tuple
    for a composite key), so a phase gets them for the next one with ``keys = yield from
    factory_batches(...)``.
    """
    if batch_size < 1:
        raise ScenarioError("batch_size must be at least 1")
    plan = plan or compile_factory(factory_class, ctx.faker)
    given = dict(fixed or {})
    for key, value in given.items():
        per_row = isinstance(value, Sequence) and not isinstance(value, (str, bytes))
        if per_row and len(value) != count:
            raise ScenarioError(f"{plan.name}: fixed {key!r} has {len(value)} values for {count} rows")
    key_columns = [column.key for column in plan.table.primary_key.columns]
    integer_key = integer_primary_key(plan.table)
    if ids is None and integer_key is not None:
        pk = integer_key.key
        if pk not in given and pk not in plan.order:
            ids = ctx.allocate(plan.table.key, count)
    if ids is not None:
        if len(ids) != count:
            raise ScenarioError(f"{plan.name}: {len(ids)} ids for {count} rows")
        if len(key_columns) != 1:
            raise ScenarioError(
                f"{plan.name}: ids= needs a one-column primary key; give the columns of "
                f"{plan.table.name}'s key ({', '.join(key_columns)}) in fixed="
            )
        given[key_columns[0]] = ids
    layout = _layout(plan, given)
    if plan.post_declarations:
        ctx.note_fallback(
            f"{plan.name}: post-generation {', '.join(plan.post_declarations)} not run by the batch path"
        )
    locale = ctx.faker.locales[0] if ctx.faker.locales else "en_US"
    stream = _Stream(ctx, plan, layout, ids, locale, ctx.rng.getrandbits(64))
    return stream.batches(count, batch_size)


def _integers(ids: Sequence[Any]) -> bool:
    """Whether every key is an int (then a row's sequence number is its key minus one)."""
    return isinstance(ids, range) or all(type(key) is int for key in ids)


class _Stream:
    """The generator behind :func:`factory_batches`: one batch of columns per ``next()``."""

    def __init__(
        self,
        ctx: PhaseContext,
        plan: FactoryPlan,
        layout: _Layout,
        ids: Sequence[Any] | None,
        locale: str,
        seed: int,
    ) -> None:
        self.ctx = ctx
        self.plan = plan
        self.layout = layout
        self.ids = ids
        self.integer_ids = ids is not None and _integers(ids)
        self.locale = locale
        self.seed = seed
        covered = layout.covered  # given by fixed=/ids=: never evaluated, never a fallback
        self.compiled = {name: fn for name, fn in plan.compiled.items() if name not in covered}
        self.fallback = {name: why for name, why in plan.fallback.items() if name not in covered}
        self.aliases = {name: key for name, key in covered.items() if key and key != name}
        self.columns = list(layout.columns)
        self.run: dict[str, Any] = {}
        #: Without integer keys, sequence numbers go on from the table's earlier calls.
        self.first = 0 if self.integer_ids else ctx.sequences.get(plan.table.key, 0)

    def _keys_of(self, made: list[list[Any]], keys: list[Any]) -> None:
        """Add the primary keys of a batch's rows (``made``, by ``self.columns``) to ``keys``."""
        names = [column.key for column in self.plan.table.primary_key.columns]
        if not all(name in self.columns for name in names):
            return  # a key the database makes: not known here
        where = [self.columns.index(name) for name in names]
        if len(where) == 1:
            keys.extend(made[where[0]])
        else:
            keys.extend(zip(*(made[index] for index in where), strict=True))

    def batches(self, count: int, batch_size: int) -> Generator[Batch, None, Sequence[Any]]:
        rng = random.Random(self.seed)
        noted = False
        keys: list[Any] = []
        for number, start in enumerate(range(0, count, batch_size)):
            stop = min(start + batch_size, count)
            state = self._columns(rng, start, stop)
            made = [self._values(state, source) for source in self.layout.sources]
            if self.fallback:
                if not noted:
                    self.ctx.note_fallback(
                        f"{self.plan.name}: {count:,} rows built per row by the factory for "
                        + ", ".join(f"{name} ({why})" for name, why in self.fallback.items())
                    )
                    noted = True
                made = self._build_per_row(state, made, derive_seed(self.seed, "fallback", number))
            if self.ids is None:
                self._keys_of(made, keys)
            yield Batch.from_columns(self.plan.table.key, tuple(self.columns), made)
        return keys if self.ids is None else self.ids

    def _columns(self, rng: random.Random, start: int, stop: int) -> _BatchState:
        """Every value the batch path can make for rows ``start..stop-1``."""
        ids = self.ids
        sequence = (
            [key - 1 for key in ids[start:stop]]
            if ids is not None and self.integer_ids
            else range(self.first + start, self.first + stop)
        )
        if len(sequence):
            highest = sequence[-1] if isinstance(sequence, range) else max(sequence)
            self.ctx.note_sequences(self.plan.table.key, highest + 1)
        fixed = {name: list(fn(start, stop)) for name, fn in self.layout.fixed.items()}
        for name, key in self.aliases.items():  # a declaration given by its column's name
            fixed[name] = fixed[key]
        saved = rng.getstate()
        while True:
            state = _BatchState(
                self.compiled, self.fallback, stop - start, rng, sequence, dict(fixed), self.run
            )
            try:
                for source in self.layout.sources:
                    if source in self.compiled:
                        state.column(source)
                if self.fallback:  # the per-row factory gets every compiled value, so they agree
                    for name in list(self.compiled):
                        state.column(name)
                return state
            except _ReadsFallback as exc:  # it reads a value made per row: make it per row too
                self.fallback[exc.name] = "reads a value built per row"
                self.compiled.pop(exc.name, None)
                rng.setstate(saved)
            except AttributeError as exc:
                raise ScenarioError(f"{self.plan.name}: {exc}") from None

    def _values(self, state: _BatchState, source: str) -> list[Any]:
        if source.startswith("none:"):
            return [None] * state.size
        if source.startswith("build:") or source in self.fallback:
            return [None] * state.size  # filled in by the per-row factory
        return state.values[source]

    def _build_per_row(self, state: _BatchState, made: list[list[Any]], seed: int) -> list[list[Any]]:
        """Fill the columns only the factory can make: ``Factory.build(**known values)`` per row."""
        plan, layout = self.plan, self.layout
        factory.random.reseed_random(seed)
        known = {layout.kwargs[n]: values for n, values in state.values.items() if n in layout.kwargs}
        objects = []
        with factory.Faker.override_default_locale(self.locale):
            for row in range(state.size):
                kwargs = {name: values[row] for name, values in known.items()}
                for name in layout.passed_as_none:
                    kwargs.setdefault(name, None)
                objects.append(plan.factory.build(__sequence=state.sequence[row], **kwargs))
        if self.columns == layout.columns and objects:  # first batch: add columns only the model sets
            mapper = sa.inspect(plan.factory._meta.model)
            set_on_model = sa.inspect(objects[0]).dict
            extra = {
                prop.columns[0].key
                for prop in mapper.column_attrs
                if prop.key in set_on_model and prop.columns[0].table is plan.table
            }
            self.columns = [c.key for c in plan.table.columns if c.key in extra or c.key in layout.columns]
        attribute_of = {column: attribute for attribute, column in plan.attribute_columns.items()}
        by_column = dict(zip(layout.columns, made, strict=True))
        sources = dict(zip(layout.columns, layout.sources, strict=True))
        out: list[list[Any]] = []
        for column in self.columns:
            source = sources.get(column, "build:")
            if source.startswith("build:") or source in self.fallback:
                attribute = attribute_of.get(column, column)
                out.append([getattr(obj, attribute) for obj in objects])
            else:
                out.append(by_column[column])
        return out
