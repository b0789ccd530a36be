"""Weighted pools drawn from Faker's own locale data: the fast way to make many realistic values.

Besides the pools themselves, :func:`faker_column` maps a ``factory.Faker`` declaration (a
provider name and its arguments) to a column draw over those pools, so a factory's Faker
declarations can be generated a whole batch at a time from a seeded ``random.Random``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faker import Faker
from faker.providers import address, person

__all__ = ["ColumnDraw", "WeightedPool", "faker_column", "provider_pool"]

#: Draws ``k`` values of one column from a seeded stream.
ColumnDraw = Callable[[random.Random, int], list[Any]]


@dataclass(frozen=True)
class WeightedPool:
    """Values with cumulative weights; ``draw`` picks ``k`` of them with one seeded call."""

    values: tuple[Any, ...]
    cum_weights: tuple[float, ...] | None = None

    def draw(self, rng: random.Random, k: int) -> list[Any]:
        if self.cum_weights is None:
            return rng.choices(self.values, k=k)
        return rng.choices(self.values, cum_weights=self.cum_weights, k=k)


def _pool_of(data: Any) -> WeightedPool:
    """A pool from a Faker word list: a mapping is weighted, any other collection uniform."""
    if isinstance(data, Mapping):
        weights: Sequence[float] = tuple(float(w) for w in data.values())
        return WeightedPool(tuple(data.keys()), tuple(itertools.accumulate(weights)))
    return WeightedPool(tuple(data))


def provider_pool(faker: Faker, method: str, *attributes: str) -> WeightedPool | None:
    """The first word list of ``attributes`` kept by the provider that answers ``faker.<method>()``.

    Scoped to that provider because several providers keep lists under the same name
    (``formats`` is a person's name formats and a phone number's). None when it has none.
    """
    provider = getattr(getattr(faker, method, None), "__self__", None)
    for attribute in attributes:
        data = getattr(provider, attribute, None)
        if data is not None and not callable(data) and not isinstance(data, str) and data:
            return _pool_of(data)
    return None


#: Where the methods modelled here are implemented as "a draw from a list" (or "a format").
_BASE_PROVIDERS = (person.Provider, address.Provider)


def _modelled(faker: Faker, method: str) -> bool:
    """True when the locale answers ``method`` with Faker's base implementation, the one we
    model; a locale that overrides it (e.g. a ``city()`` of its own) is left to Faker itself."""
    provider = getattr(getattr(faker, method, None), "__self__", None)
    if provider is None:
        return False
    for base in _BASE_PROVIDERS:
        if isinstance(provider, base) and hasattr(base, method):
            return getattr(type(provider), method) is getattr(base, method)
    return True  # a method no base defines (en_US city_prefix): a plain list draw


#: Faker methods that are one draw from a word list of their provider (the first it has).
_WORD_LISTS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_names",),
    "first_name_female": ("first_names_female", "first_names"),
    "first_name_male": ("first_names_male", "first_names"),
    "last_name": ("last_names",),
    "last_name_female": ("last_names_female", "last_names"),
    "last_name_male": ("last_names_male", "last_names"),
    "prefix_female": ("prefixes_female",),
    "prefix_male": ("prefixes_male",),
    "suffix_female": ("suffixes_female",),
    "suffix_male": ("suffixes_male",),
    "city_prefix": ("city_prefixes",),
    "city_suffix": ("city_suffixes",),
    "street_suffix": ("street_suffixes",),
}
#: Faker methods that pick a ``{{token}}`` format from a list and fill in each token.
_FORMATTED: dict[str, tuple[str, ...]] = {
    "name": ("formats",),
    "name_female": ("formats_female", "formats"),
    "name_male": ("formats_male", "formats"),
    "city": ("city_formats",),
}
_TOKEN = re.compile(r"\{\{\s?(\w+)(:.*?)?\s?\}\}")
#: numerify/lexify placeholders whose every outcome is equally likely.
_PLACEHOLDERS = {"#": string.digits, "%": "123456789", "$": "23456789"}


def _word_list(faker: Faker, method: str) -> ColumnDraw | None:
    attributes = _WORD_LISTS.get(method)
    if not attributes or not _modelled(faker, method):
        return None
    pool = provider_pool(faker, method, *attributes)
    return pool.draw if pool is not None else None


def _template(text: str, holders: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """``text`` as a ``str.format`` template: literal braces escaped, each holder a ``{}``."""
    parts: list[str] = []
    alphabets: list[str] = []
    for char in text:
        if char in holders:
            parts.append("{}")
            alphabets.append(holders[char])
        elif char in "{}":
            parts.append(char * 2)
        elif char in "!@" and "#" in holders:
            return None  # digit-or-empty placeholders: left to Faker itself
        else:
            parts.append(char)
    return "".join(parts), alphabets


def _placeholder_column(text: Any, holders: Mapping[str, str]) -> ColumnDraw | None:
    if not isinstance(text, str):
        return None
    compiled = _template(text, holders)
    if compiled is None:
        return None
    template, alphabets = compiled

    def draw(rng: random.Random, k: int) -> list[Any]:
        if not alphabets:
            return [text] * k
        columns = [rng.choices(alphabet, k=k) for alphabet in alphabets]
        return [template.format(*chars) for chars in zip(*columns, strict=True)]

    return draw


def _formatted(faker: Faker, method: str) -> ColumnDraw | None:
    """Faker's ``name()``/``city()``: a weighted format, each ``{{token}}`` a word-list draw."""
    formats = provider_pool(faker, method, *_FORMATTED[method]) if _modelled(faker, method) else None
    if formats is None:
        return None
    templates: list[tuple[str, list[ColumnDraw]]] = []
    for text in formats.values:
        tokens: list[ColumnDraw] = []
        literal = []
        position = 0
        for match in _TOKEN.finditer(text):
            token = _word_list(faker, match.group(1)) if match.group(2) is None else None
            if token is None:
                return None
            tokens.append(token)
            literal.append(text[position : match.start()].replace("{", "{{").replace("}", "}}") + "{}")
            position = match.end()
        literal.append(text[position:].replace("{", "{{").replace("}", "}}"))
        templates.append(("".join(literal), tokens))
    picker = WeightedPool(tuple(range(len(templates))), formats.cum_weights)

    def draw(rng: random.Random, k: int) -> list[Any]:
        out: list[Any] = [None] * k
        rows_of: dict[int, list[int]] = {}
        for row, pick in enumerate(picker.draw(rng, k)):
            rows_of.setdefault(pick, []).append(row)
        for pick in sorted(rows_of):
            rows = rows_of[pick]
            template, tokens = templates[pick]
            columns = [token(rng, len(rows)) for token in tokens]
            filled = zip(*columns, strict=True) if columns else itertools.repeat(())
            for row, values in zip(rows, filled, strict=False):
                out[row] = template.format(*values)
        return out

    return draw


def _as_ordinal(value: Any) -> int | None:
    if isinstance(value, dt.datetime):
        return value.date().toordinal()
    if isinstance(value, dt.date):
        return value.toordinal()
    return None  # relative strings ("-30y") and None mean "from today": the wall clock


def _date_column(start: Any, end: Any) -> ColumnDraw | None:
    first, last = _as_ordinal(start), _as_ordinal(end)
    if first is None or last is None or last < first:
        return None
    days = range(first, last + 1)
    from_ordinal = dt.date.fromordinal
    return lambda rng, k: [from_ordinal(day) for day in rng.choices(days, k=k)]


def _int_column(low: Any, high: Any, step: Any) -> ColumnDraw | None:
    if not all(isinstance(v, int) for v in (low, high, step)) or step < 1 or high < low:
        return None
    values = range(low, high + 1, step)
    return lambda rng, k: rng.choices(values, k=k)


def _bool_column(percent: Any) -> ColumnDraw | None:
    if not isinstance(percent, (int, float)):
        return None
    share = percent / 100
    return lambda rng, k: [rng.random() < share for _ in range(k)]


def _elements_column(elements: Any) -> ColumnDraw | None:
    if isinstance(elements, (str, bytes)) or not isinstance(elements, (Sequence, Mapping)):
        return None
    if not elements:
        return None
    return _pool_of(elements).draw


def faker_column(faker: Faker, provider: str, kwargs: Mapping[str, Any]) -> ColumnDraw | None:
    """A column draw equivalent to ``faker.<provider>(**kwargs)`` over seeded pools, or None.

    None means the provider (or these arguments) is not mapped: the caller makes those values
    with the per-row factory instead. Mapped: first/last names and their gendered forms,
    ``name``, ``city``, ``random_element``, ``numerify``/``lexify``/``bothify``, ``random_int``,
    ``pyint``, ``boolean``/``pybool`` and ``date_between(_dates)`` with fixed dates.
    """
    args = dict(kwargs)

    def take(name: str, default: Any) -> Any:
        return args.pop(name, default)

    draw: ColumnDraw | None
    if provider in _WORD_LISTS:
        draw = _word_list(faker, provider)
    elif provider in _FORMATTED:
        draw = _formatted(faker, provider)
    elif provider == "random_element":
        draw = _elements_column(take("elements", ("a", "b", "c")))
    elif provider == "numerify":
        draw = _placeholder_column(take("text", "###"), _PLACEHOLDERS)
    elif provider in ("lexify", "bothify"):
        letters = take("letters", string.ascii_letters)
        holders = {"?": letters} if isinstance(letters, str) and letters else None
        text = take("text", "????" if provider == "lexify" else "## ??")
        if holders is not None and provider == "bothify":
            holders.update(_PLACEHOLDERS)
        draw = _placeholder_column(text, holders) if holders is not None else None
    elif provider == "random_int":
        draw = _int_column(take("min", 0), take("max", 9999), take("step", 1))
    elif provider == "pyint":
        draw = _int_column(take("min_value", 0), take("max_value", 9999), take("step", 1))
    elif provider == "boolean":
        draw = _bool_column(take("chance_of_getting_true", 50))
    elif provider == "pybool":
        draw = _bool_column(take("truth_probability", 50))
    elif provider == "date_between_dates":
        draw = _date_column(take("date_start", None), take("date_end", None))
    elif provider == "date_between":
        draw = _date_column(take("start_date", "-30y"), take("end_date", "today"))
    else:
        draw = None
    return draw if not args else None  # an argument we do not model: leave it to Faker
