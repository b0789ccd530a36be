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
    "National",
    "Democratic",
    "Progressive",
    "Liberal",
    "Conservative",
    "Green",
    "Popular",
    "Republican",
    "Civic",
    "United",
    "Independent",
    "Social",
    "Reform",
    "Labour",
    "Free",
    "Citizens'",
    "Federal",
    "New",
    "Modern",
    "People's",
)
PARTY_NOUNS = (
    "Party",
    "Alliance",
    "Union",
    "Movement",
    "Front",
    "Coalition",
    "League",
    "Forum",
    "Assembly",
    "Congress",
)

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _luhn_sum(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits``, the way real national ids are checked."""
    return str((10 - _luhn_sum(digits) % 10) % 10)


#: Luhn sums of every 3-digit group, by whether the group's last digit is doubled: a national id
#: is then checked with three lookups instead of ten digit steps (it is made 500,000 times).
_GROUP_SUMS = (
    tuple(_luhn_sum(f"{n:03d}") for n in range(1000)),
    tuple(_luhn_sum(f"{n:03d}0") for n in range(1000)),
)


_DOUBLED, _PLAIN = _GROUP_SUMS


def national_id(n: int) -> str:
    """An 11-digit national id, unique for each ``n`` (an elector's id or a factory sequence).

    For ``0 <= n < 10**10`` the check digit is ``luhn_digit(f"{n:010d}")`` by 3-digit groups,
    inline (not a second call: this runs once per elector).
    """
    if 0 <= n < 10**10:
        total = _DOUBLED[n % 1000] + _PLAIN[n // 1000 % 1000] + _DOUBLED[n // 1000000 % 1000]
        total += n // 1000000000
        return f"{n:010d}{(10 - total % 10) % 10}"
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
