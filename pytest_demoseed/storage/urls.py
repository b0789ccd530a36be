"""Database URLs, parsed and checked in one place: every part, each problem one line.

``seed()``, ``clear()``, ``database_fingerprint()``, the ``demoseed`` command and the fixtures
(through :func:`~pytest_demoseed.storage.backends.backend_for`) all call :func:`parse_url`, so a
URL is judged the same way everywhere, before any connection is opened. SQLAlchemy's own parser
answers some mistakes with a traceback (``ValueError: invalid literal for int()`` for a port that
is not a number) and lets others through to the driver (a port out of range, a SQLite URL with a
host); here each is a :class:`~pytest_demoseed.errors.DatabaseUrlError` naming the part that is
wrong and what is valid. A password is never part of a message.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from pytest_demoseed.errors import DatabaseUrlError
from pytest_demoseed.storage.drivers import FIXTURE_DRIVERS

__all__ = ["parse_url", "safe_url"]

#: The pip extra of pytest-demoseed that installs a driver.
_EXTRAS = {"psycopg": "postgresql", "pymysql": "mysql"}
_EXAMPLES = "e.g. sqlite:///demo.db, postgresql+psycopg://user@host/name or mysql+pymysql://user@host/name"
#: A host name, an IPv4 address or an IPv6 address (SQLAlchemy has removed its brackets).
_HOST = re.compile(r"[A-Za-z0-9._%:-]+")
#: ``scheme://user:password@`` in text that may not parse: the password is replaced before showing.
_PASSWORD = re.compile(r"(://[^:/@?#]*:)[^@/?#]*@")
#: The port text of a URL SQLAlchemy could not turn into a number.
_PORT = re.compile(r"://(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)")


def _masked(text: str) -> str:
    return _PASSWORD.sub(r"\1***@", text)


def safe_url(url: str | URL) -> str:
    """The URL as text with any password hidden, for headers, summaries and errors."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparsable: shown as given, its password masked
        return _masked(str(url))


def _parse(text: str | URL) -> URL:
    if isinstance(text, URL):
        return text
    if not isinstance(text, str):
        raise DatabaseUrlError(f"a database URL must be text, not {type(text).__name__}")
    if not text.strip():
        raise DatabaseUrlError(f"the database URL is empty; {_EXAMPLES}")
    try:
        return make_url(text)
    except sa.exc.ArgumentError:
        raise DatabaseUrlError(f"cannot parse the database URL {_masked(text)!r}; {_EXAMPLES}") from None
    except ValueError:  # SQLAlchemy's int() of the port
        found = _PORT.search(text)
        port = found.group(1) if found else "?"
        raise DatabaseUrlError(
            f"port {port!r} in {_masked(text)!r} is not a number: give 1-65535, or leave it out"
        ) from None


def _check_dialect(url: URL, shown: str, *, fixtures: bool) -> None:
    backend = url.get_backend_name()
    try:
        dialect = url.get_dialect()
    except sa.exc.NoSuchModuleError:
        hint = " (PostgreSQL's is postgresql+psycopg)" if backend == "postgres" else ""
        raise DatabaseUrlError(
            f"unknown database dialect {url.drivername!r} in {shown!r}{hint}; "
            "use sqlite, postgresql+psycopg or mysql+pymysql"
        ) from None
    driver = dialect.driver
    if fixtures:
        if backend not in FIXTURE_DRIVERS:
            raise DatabaseUrlError(
                f"the fixtures do not support {backend!r} databases: use sqlite, postgresql or mysql/mariadb"
            )
        needed = FIXTURE_DRIVERS[backend]
        if driver != needed:
            extra = f" (pip install 'pytest-demoseed[{_EXTRAS[needed]}]')" if needed in _EXTRAS else ""
            raise DatabaseUrlError(
                f"{backend} needs the {needed} driver: use {backend}+{needed}://...{extra}"
            )
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        install = (
            f"pip install 'pytest-demoseed[{_EXTRAS[driver]}]'"
            if driver in _EXTRAS
            else f"install it (no module {exc.name or driver!r}) or name another driver in the URL"
        )
        raise DatabaseUrlError(f"the {driver} driver for {backend} is not installed: {install}") from None


def _check_parts(url: URL, shown: str, *, fixtures: bool) -> None:
    if url.get_backend_name() == "sqlite":
        if url.username or url.password or url.host or url.port:
            raise DatabaseUrlError(
                f"{shown!r}: a SQLite URL has no user, password, host or port; "
                "use sqlite:///relative/file.db or sqlite:////absolute/file.db"
            )
        if fixtures and url.database in (None, "", ":memory:"):
            raise DatabaseUrlError(
                f"{shown!r} is not a SQLite file URL; in-memory databases cannot be shared by the "
                "fixtures: use sqlite:///path/to/file.db"
            )
    else:
        if url.password and not url.username:
            raise DatabaseUrlError(f"{shown!r} has a password but no user name: user:password@host")
        if url.host and not _HOST.fullmatch(url.host):
            raise DatabaseUrlError(f"host {url.host!r} in {shown!r} is not a host name or IP address")
        if url.port is not None and not 0 < url.port < 65536:
            raise DatabaseUrlError(f"port {url.port} in {shown!r} is out of range: give 1-65535")
        if fixtures and not url.database:
            raise DatabaseUrlError(f"{shown!r} names no database: add /NAME to the URL")
    for key, value in url.query.items():
        if not key:
            raise DatabaseUrlError(f"{shown!r} has a query parameter without a name")
        if isinstance(value, tuple):
            raise DatabaseUrlError(f"query parameter {key!r} is given {len(value)} times in {shown!r}")


def parse_url(url: str | URL, *, fixtures: bool = False) -> URL:
    """``url`` parsed, with every part checked, or a one-line DatabaseUrlError.

    Checked: that it parses; the dialect and driver (known to SQLAlchemy, and installed, or the
    message names the pip extra that installs it); user and password; host; port (a number,
    1-65535); the query (each parameter named, and given once). With ``fixtures``, also what the
    snapshot flow needs: one of its backends and drivers, a SQLite file rather than memory, a
    server URL that names its database. Nothing is connected to.
    """
    parsed = _parse(url)
    shown = safe_url(parsed)
    _check_dialect(parsed, shown, fixtures=fixtures)
    _check_parts(parsed, shown, fixtures=fixtures)
    return parsed
