"""Setting kinds for phase authors (``from pytest_demoseed.settings_kinds import integer``).

The public import path of :mod:`pytest_demoseed.scenario.settings_kinds`, kept where the README
documents it.
"""

from pytest_demoseed.errors import SettingError
from pytest_demoseed.scenario.settings_kinds import (
    Setting,
    boolean,
    choice,
    date,
    fraction,
    integer,
    optional_integer,
    text,
    weights,
)

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
