"""Value formats shared by the election factories and the fast phases, so the two cannot drift."""

from __future__ import annotations

import re

__all__ = [
    "committee_code",
    "email_for",
    "luhn_digit",
    "national_id",
    "party_color",
    "PARTY_ADJECTIVES",
    "PARTY_NOUNS",
]

PARTY_ADJECTIVES = (
    "National", "Democratic", "Progressive", "Liberal", "Conservative", "Green", "Popular",
    "Republican", "Civic", "United", "Independent", "Social", "Reform", "Labour", "Free",
    "Citizens'", "Federal", "New", "Modern", "People's",
)
PARTY_NOUNS = (
    "Party", "Alliance", "Union", "Movement", "Front", "Coalition", "League", "Forum",
    "Assembly", "Congress",
)

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits``, the way real national ids are checked."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def national_id(n: int) -> str:
    """An 11-digit national id, unique for each ``n`` (an elector's id or a factory sequence)."""
    body = f"{n:010d}"
    return body + luhn_digit(body)


def email_for(name: str, n: int, domain: str = "example.org") -> str:
    """``first.last.N@domain``: readable, and unique because ``n`` is."""
    local = _NOT_WORD.sub(".", name.lower()).strip(".") or "member"
    return f"{local}.{n}@{domain}"


def party_color(value: int) -> str:
    """``#rrggbb`` from a 24-bit integer."""
    return f"#{value & 0xFFFFFF:06x}"


def committee_code(n: int) -> str:
    return f"C{n:04d}"
