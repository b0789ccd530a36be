"""Typed phase settings: each kind turns text (command line, ini) or a Python value (marker) into one
canonical value, or says in one line what is valid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_demoseed.errors import SettingError

__all__ = [
    "Setting",
    "SettingError",
    "boolean",
    "choice",
    "date",
    "fraction",
    "integer",
    "optional_integer",
    "text",
    "weights",
]


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Setting:
    """A phase setting: its default, the parser that validates it, and a help line."""

    default: Any
    parse: Parser
    help: str = ""
    kind: str = ""

    def resolve(self, value: Any) -> Any:
        return self.parse(value)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def boolean(default: bool, help: str = "") -> Setting:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise SettingError(f"{value!r} is not a boolean (use true or false)")

    return Setting(default, parse, help, "bool")


def integer(default: int, help: str = "", minimum: int = 0, maximum: int | None = None) -> Setting:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise SettingError(f"{value!r} is not an integer")
        try:
            number = int(value.strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise SettingError(f"{value!r} is not an integer") from None
        if isinstance(value, float) and number != value:
            raise SettingError(f"{value!r} is not an integer")
        if number < minimum:
            raise SettingError(f"{number} is below the minimum {minimum}")
        if maximum is not None and number > maximum:
            raise SettingError(f"{number} is above the maximum {maximum}")
        return number

    return Setting(default, parse, help, f"int >= {minimum}")


def optional_integer(default: int | None, help: str = "", minimum: int = 0) -> Setting:
    inner = integer(0, minimum=minimum).parse

    def parse(value: Any) -> int | None:
        if value is None or (isinstance(value, str) and value.strip().lower() in {"none", "null", ""}):
            return None
        try:
            return int(inner(value))
        except SettingError:
            raise SettingError(f"{value!r} is not none or an integer >= {minimum}") from None

    return Setting(default, parse, help, f"none or int >= {minimum}")


def fraction(default: float, help: str = "") -> Setting:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise SettingError(f"{value!r} is not a number between 0 and 1")
        try:
            number = float(value.strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise SettingError(f"{value!r} is not a number between 0 and 1") from None
        if not 0.0 <= number <= 1.0:
            raise SettingError(f"{number:g} is not between 0 and 1")
        return number

    return Setting(default, parse, help, "0..1")


def choice(default: str, options: tuple[str, ...], help: str = "") -> Setting:
    def parse(value: Any) -> str:
        text_value = str(value).strip()
        if text_value not in options:
            raise SettingError(f"{value!r} is not one of: {', '.join(options)}")
        return text_value

    return Setting(default, parse, help, "|".join(options))


def text(default: str, help: str = "") -> Setting:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise SettingError(f"{value!r} is not a non-empty text")
        return value.strip()

    return Setting(default, parse, help, "text")


def date(default: dt.date, help: str = "") -> Setting:
    def parse(value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise SettingError(f"{value!r} is not a date (YYYY-MM-DD)") from None

    return Setting(default, parse, help, "YYYY-MM-DD")


def weights(default: str | tuple[float, ...], help: str = "") -> Setting:
    """``even`` or positive weights, given as ``0.6,0.3,0.1`` or a sequence of numbers."""

    def parse(value: Any) -> str | tuple[float, ...]:
        if isinstance(value, str) and value.strip().lower() == "even":
            return "even"
        items: list[Any]
        if isinstance(value, str):
            items = [part for part in value.split(",") if part.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise SettingError(f"{value!r} is not 'even' or comma-separated weights")
        try:
            numbers = tuple(float(item) for item in items)
        except (TypeError, ValueError):
            raise SettingError(f"{value!r} is not 'even' or comma-separated weights") from None
        if not numbers or any(n < 0 for n in numbers) or sum(numbers) <= 0:
            raise SettingError(f"{value!r}: weights must be non-negative with a positive sum")
        return numbers

    return Setting(default, parse, help, "even|w1,w2,...")
