"""The rule of ``tests/servers.py`` that CI relies on: a server that cannot be reached fails its
tests under ``CI=true`` and skips them, with the reason shown, otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent
INNER = f"""
import sys
sys.path.insert(0, {str(TESTS_DIR)!r})
from servers import server  # noqa: F401

def test_uses_a_server(server):
    assert server.url
"""
DOWN = {
    "DEMOSEED_TEST_BACKENDS": "postgresql,mariadb",
    "DEMOSEED_TEST_PG": "postgresql+psycopg://root@127.0.0.1:1",
    "DEMOSEED_TEST_MARIADB": "mysql+pymysql://root@127.0.0.1:1",
}


@pytest.mark.parametrize("ci", ["true", "1", None], ids=["CI=true", "CI=1", "CI-unset"])
def test_unreachable_server_fails_under_ci_and_skips_visibly_otherwise(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    for name, value in DOWN.items():
        monkeypatch.setenv(name, value)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-rs")
    out = result.stdout.str()
    if ci is None:
        result.assert_outcomes(skipped=2)
        assert "postgresql server not reachable at postgresql+psycopg://root@127.0.0.1:1" in out, out
        assert "mariadb server not reachable at mysql+pymysql://root@127.0.0.1:1" in out, out
    else:
        result.assert_outcomes(errors=2)
        assert out.count("(CI=true: servers are required)") >= 2, out
        assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_reachable_servers_run_their_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default URLs (the README's servers) are what ``.ci/run`` starts: they must pass."""
    for name in DOWN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_inner=INNER)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=3)
