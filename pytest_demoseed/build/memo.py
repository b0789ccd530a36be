"""Texts of a column's values, each distinct value converted once across a build's batches.

Dates and datetimes repeat: ``large`` has 500,000 birth dates among 26,000 days and 350,000
votes among 43,200 seconds, and ``isoformat`` costs a quarter to half a microsecond a value.
A memo per column converts each distinct value once and makes a batch's texts by C-level set
and dict operations. A column whose values keep being new (a timestamp to the microsecond)
fills the memo to :attr:`TextMemo.LIMIT` and then goes without it. Measured on batches of
10,000 such values, the memo warm: a date's text 261 -> 106 ns, a datetime's 598 -> 95 ns.

For values whose equal ones have the same text only: exact ``date``, naive exact ``datetime``
and ``time`` (the callers check), never ints next to bools or aware datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["TextMemo"]


class TextMemo:
    """``convert`` (a column's values to their texts, in order) with each value done once."""

    #: Distinct values kept at most; beyond it the memo is dropped and values converted as given.
    LIMIT = 100_000

    def __init__(self, convert: Callable[[Sequence[Any]], Iterable[str]]) -> None:
        self._convert = convert
        self._texts: dict[Any, str] | None = {}

    def __call__(self, values: Sequence[Any]) -> list[str]:
        texts = self._texts
        if texts is None:
            return list(self._convert(values))
        # Once warm every value is known: one lookup each (63 ns) beats making the batch's set
        # of new values first (108 ns a value, measured on 10,000 dates of 26,000 days).
        found = list(map(texts.get, values))
        if None not in found:
            return found  # type: ignore[return-value]
        new = list(set(values).difference(texts))  # which order they go in does not matter
        if len(texts) + len(new) > self.LIMIT:
            self._texts = None
            return list(self._convert(values))
        texts.update(zip(new, self._convert(new), strict=True))
        return list(map(texts.__getitem__, values))
