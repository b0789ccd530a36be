"""Every exception pytest-demoseed raises, at the bottom of the import graph.

Any module may import from here and this module imports nothing of the package, so no module
ever imports another only to reach an error class.
"""

from __future__ import annotations

__all__ = [
    "BuildCancelled",
    "DatabaseUnreachable",
    "DatabaseUrlError",
    "MigrationError",
    "ScenarioError",
    "SchemaMismatch",
    "SeedRefused",
    "ServerError",
    "SettingError",
    "first_line",
]


class ScenarioError(ValueError):
    """A scenario, phase or setting was asked for that does not exist or does not fit."""


class SettingError(ValueError):
    """A setting's value is not valid; the message says what is."""


class SchemaMismatch(ScenarioError):
    """The database's tables or columns differ from the scenario's metadata."""


class SeedRefused(ScenarioError):
    """What was asked does not fit what the database holds (it already holds the scenario's rows,
    or a disabled phase has none to reuse): a usage error, the message names the option to use."""


class MigrationError(ScenarioError):
    """Alembic migrations cannot be used or failed: no alembic.ini, Alembic not installed, an
    unknown or ambiguous target, or a migration that failed (named, with the database's error)."""


class DatabaseUrlError(ScenarioError):
    """The database URL cannot be used: unparsable, an unknown dialect, or a driver not installed."""


class DatabaseUnreachable(ScenarioError):
    """The database named by the URL cannot be opened (down, wrong credentials, no such file)."""


class ServerError(ScenarioError):
    """A database server refused something; the message is the driver's first line."""


class BuildCancelled(Exception):
    """The build was asked to stop; everything it wrote was rolled back."""


def first_line(exc: BaseException) -> str:
    """The first line of an error's message, for one-line reports to users.

    A SQLAlchemy error wrapping a driver's is reduced to the driver's message (SQLAlchemy adds
    the statement and a link on further lines); an error without a message gives its class name.
    """
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
