"""Database URLs are checked in one place, every part, each problem one line that names it."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy.engine import make_url

from pytest_demoseed import api
from pytest_demoseed.errors import DatabaseUrlError, ScenarioError
from pytest_demoseed.storage.backends import MySQLBackend, PostgresBackend, SQLiteBackend, backend_for
from pytest_demoseed.storage.urls import parse_url, safe_url

PASSWORD = "s3cret"


@pytest.mark.parametrize(
    ("url", "fixtures", "fragments"),
    [
        pytest.param("", False, ["is empty", "sqlite:///"], id="empty"),
        pytest.param("not a url", False, ["cannot parse", "'not a url'"], id="unparsable"),
        pytest.param(
            f"postgresql+psycopg://root:{PASSWORD}@127.0.0.1:abc/x",
            False,
            ["port 'abc'", "not a number", "1-65535"],
            id="port-not-a-number",
        ),
        pytest.param("postgresql+psycopg://root@127.0.0.1:/x", False, ["port ''"], id="port-empty"),
        pytest.param("postgresql+psycopg://root@127.0.0.1:70000/x", False, ["port 70000"], id="port-high"),
        pytest.param("nope://x/y", False, ["dialect 'nope'", "postgresql+psycopg"], id="unknown-dialect"),
        pytest.param("postgres://u@h/x", False, ["'postgres'", "postgresql+psycopg"], id="postgres-alias"),
        pytest.param(
            "postgresql+psycopg2://u@h/x", False, ["psycopg2 driver", "not installed"], id="driver-missing"
        ),
        pytest.param("sqlite://host/demo.db", False, ["SQLite URL has no", "host"], id="sqlite-with-host"),
        pytest.param(f"postgresql+psycopg://:{PASSWORD}@h/x", False, ["no user name"], id="password-no-user"),
        pytest.param("postgresql+psycopg://u@bad host/x", False, ["host 'bad host'"], id="host"),
        pytest.param("postgresql+psycopg://u@h/x?a=1&a=2", False, ["'a' is given 2 times"], id="query-twice"),
        pytest.param("sqlite://", True, ["not a SQLite file URL"], id="fixtures-sqlite-memory"),
        pytest.param("postgresql+psycopg://u@h/", True, ["names no database"], id="fixtures-no-database"),
        pytest.param("mssql+pymssql://u@h/x", True, ["do not support 'mssql'"], id="fixtures-dialect"),
        pytest.param(
            "mysql+mysqldb://u@h/x", True, ["pymysql driver", "pytest-demoseed[mysql]"], id="fixtures-driver"
        ),
    ],
)
def test_a_bad_url_is_one_line_naming_the_part_and_never_the_password(
    url: str, fixtures: bool, fragments: list[str]
) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        parse_url(url, fixtures=fixtures)
    message = str(caught.value)
    assert "\n" not in message
    assert PASSWORD not in message
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(caught.value, ScenarioError), "callers that catch ScenarioError catch it too"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///demo.db",
        "sqlite:////tmp/demo.db",
        "sqlite:///demo.db?mode=ro&uri=true",
        "postgresql+psycopg://root@127.0.0.1:5432/demo",
        f"postgresql+psycopg://root:{PASSWORD}@[::1]:5432/demo?sslmode=disable",
        "postgresql+psycopg:///demo",  # the local socket: no host is fine
        "mysql+pymysql://root@127.0.0.1:3306/demo",
        "mariadb+pymysql://root@localhost/demo",
    ],
)
def test_good_urls_pass_for_the_api_and_the_fixtures(url: str) -> None:
    assert parse_url(url) == make_url(url)
    assert parse_url(url, fixtures=True) == make_url(url)


def test_the_api_alone_accepts_what_only_sqlalchemy_needs() -> None:
    """In-memory SQLite and a server URL without a database are fine for ``seed()``, not for
    the fixtures, which clone per worker."""
    for url in ("sqlite://", "postgresql+psycopg://root@127.0.0.1"):
        parse_url(url)
        with pytest.raises(DatabaseUrlError):
            parse_url(url, fixtures=True)


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("postgresql+psycopg://u@h/x", "psycopg", "postgresql"),
        ("mysql+pymysql://u@h/x", "pymysql", "mysql"),
    ],
)
def test_a_missing_driver_names_the_pip_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now fails
    with pytest.raises(DatabaseUrlError, match=rf"pip install 'pytest-demoseed\[{extra}\]'$"):
        parse_url(url)
    with pytest.raises(DatabaseUrlError, match=rf"pytest-demoseed\[{extra}\]"):
        backend_for(url)


def test_safe_url_masks_the_password_even_when_the_url_does_not_parse() -> None:
    assert PASSWORD not in safe_url(f"postgresql+psycopg://root:{PASSWORD}@h:abc/x")
    assert safe_url(f"postgresql+psycopg://root:{PASSWORD}@h/x") == "postgresql+psycopg://root:***@h/x"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("sqlite:///demo.db", SQLiteBackend),
        ("postgresql+psycopg://root@127.0.0.1/demo", PostgresBackend),
        ("mysql+pymysql://root@127.0.0.1/demo", MySQLBackend),
        ("mariadb+pymysql://root@127.0.0.1/demo", MySQLBackend),
    ],
)
def test_backend_for_picks_the_backend_of_a_checked_url(url: str, kind: type) -> None:
    assert isinstance(backend_for(url), kind)


def test_backend_for_reports_the_same_one_line_errors() -> None:
    with pytest.raises(DatabaseUrlError, match=r"^port 'abc' in .* is not a number"):
        backend_for("postgresql+psycopg://root@127.0.0.1:abc/x")


def test_the_api_checks_the_url_before_connecting() -> None:
    with pytest.raises(DatabaseUrlError, match="port 'abc'"):
        api.database_fingerprint("postgresql+psycopg://root@127.0.0.1:abc/x", "small")
    with pytest.raises(DatabaseUrlError, match="port 'abc'"):
        api.seed("postgresql+psycopg://root@127.0.0.1:abc/x", "small")
