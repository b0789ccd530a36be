"""Helpers for driving inner pytest runs the way users meet the plugin."""

from __future__ import annotations

import json
import re
import signal
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The plugin is light: a run that uses no demo data imports no SQLAlchemy, Faker or factory_boy.
# pytester's in-process inner runs drop the modules they import when they end, and SQLAlchemy
# does not survive being imported twice in one process: import the plugin's heavy half and the
# built-in scenarios here, once, so every inner run finds them already imported.
import pytest_demoseed.election.scenarios  # noqa: F401
import pytest_demoseed.plugin.runtime  # noqa: F401

#: pytest-asyncio (the ``asyncio`` extra, in ``test``) warns on stderr in every run whose ini
#: does not choose a loop scope for async fixtures: a project's setting, which inner runs (their
#: own ini) lack. Tests that assert a clean, one-line stderr would see it.
INNER_ADDOPTS = "-o asyncio_default_fixture_loop_scope=function"
#: Inner runs of sync tests leave the async plugins out: importing them costs each inner pytest
#: process ~0.2 s (measured: 1.45 s against 1.24 s for a collection), hundreds of times a suite.
SYNC_ADDOPTS = "-p no:asyncio -p no:anyio"
#: Test modules whose inner runs have async tests (or README blocks with them).
ASYNC_MODULES = frozenset({"test_async.py", "test_readme.py"})


def inner_addopts(needs_async: bool) -> str:
    return INNER_ADDOPTS if needs_async else SYNC_ADDOPTS


@pytest.fixture(autouse=True)
def _inner_runs_options(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give inner runs ``PYTEST_ADDOPTS``, which in-process and subprocess runs read: set after
    ``pytester`` has cleared the variable for its isolation."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")
        monkeypatch.setenv("PYTEST_ADDOPTS", inner_addopts(request.path.name in ASYNC_MODULES))


#: Inner-test helper: ``dump(request, dataset, **extra)`` writes one JSON file per test and worker.
DUMP_HELPER = """
import json, os, pathlib

OUT = pathlib.Path({out!r})


def dump(request, dataset=None, **extra):
    OUT.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = request.node.name.replace("/", "_")
    data = dict(dataset.as_dict()) if dataset is not None else {{}}
    data.update(extra, test=request.node.nodeid, worker=worker)
    (OUT / f"{{name}}@{{worker}}.json").write_text(json.dumps(data, default=str))
"""


@dataclass
class Inner:
    """A pytester project with the dump helper, and readers for what inner tests recorded."""

    pytester: pytest.Pytester

    @property
    def out(self) -> Path:
        return self.pytester.path / "dumps"

    def setup(self) -> None:
        self.pytester.makepyfile(demohelp=DUMP_HELPER.format(out=str(self.out)))

    def test_file(self, source: str, name: str = "test_inner") -> Path:
        return self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def dumps(self) -> dict[str, dict[str, Any]]:
        """``{"test_name@worker": data}`` for every test that called ``dump``."""
        if not self.out.exists():
            return {}
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.out.glob("*.json"))}

    def by_test(self) -> dict[str, dict[str, Any]]:
        """``{"test_name": data}``; fails if a test ran twice with different data."""
        found: dict[str, dict[str, Any]] = {}
        for key, data in self.dumps().items():
            name = key.split("@")[0]
            found[name] = data
        return found

    def clear(self) -> None:
        for path in self.out.glob("*.json") if self.out.exists() else []:
            path.unlink()


# --- running the suite under xdist (``-n auto --dist loadgroup`` in pyproject.toml) ---------------

#: A test on a database server: a server fixture's param (``[postgresql]``, ``[mariadb-...]``).
SERVER_PARAM = re.compile(r"\[(?:[^\]]*-)?(?P<server>postgresql|mariadb)(?:-[^\]]*)?\]$")
#: Tests that share a module-scoped fixture's expensive setup (``bad_runs``, ``shuffled_runs``):
#: one worker runs each group, so the setup runs once, not once per worker.
SHARED_SETUP = {
    "cli-bad-runs": (
        "tests/test_cli.py::test_bad_input_is_one_line_and_changes_nothing",
        "tests/test_cli.py::test_more_bad_input_in_process",
    ),
    "example-runs": (
        "tests/test_examples.py::test_example_suite_passes",
        "tests/test_examples.py::test_example_data_does_not_change_with_test_order",
        "tests/test_examples.py::test_the_readme_command_seeds_the_data_the_tests_see",
    ),
}


def xdist_group(nodeid: str) -> str | None:
    """The group a test runs in under ``--dist loadgroup``, or None to run anywhere.

    A database server's tests (``server-postgresql``, ``server-mariadb``) run one at a time on
    one worker: an inner run sweeps the server of dead runs' databases and probes it, so two at
    once would sweep each other's deliberate leftovers and see each other's probes. The two
    servers' groups, SQLite's tests (files of their own) and the rest run side by side."""
    match = SERVER_PARAM.search(nodeid)
    if match:
        return f"server-{match['server']}"
    function = nodeid.split("[")[0]
    return next((group for group, tests in SHARED_SETUP.items() if function in tests), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups of ``xdist_group``. (Not ``xdist_group`` marks:
    pytest-xdist 3.8 puts a test in its group by rewriting its node id, which pytest 9.2's
    structured node ids ignore, so the marks would silently group nothing.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SuiteGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid) or super()._split_scope(nodeid)

    return SuiteGroups(config, log)


#: What an outer xdist worker puts in its environment; an inner run (in-process or a subprocess,
#: which inherits it) must not see it, or it would take itself for that worker.
OUTER_XDIST_ENV = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


@pytest.fixture(scope="session", autouse=True)
def _no_outer_xdist_env() -> Iterator[None]:
    """The suite runs under ``-n``: inner runs start as if from a plain ``pytest``."""
    with pytest.MonkeyPatch.context() as patch:
        for name in OUTER_XDIST_ENV:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture()
def ctrl_c_reaches_children() -> Iterator[None]:
    """Processes this test starts act on SIGINT, however this suite was started.

    A shell starts a background job (``pytest &``, some CI runners) with SIGINT ignored, an
    ignored signal stays ignored across ``exec``, and Python then installs no KeyboardInterrupt
    handler: a test pressing Ctrl-C on a child would see nothing happen. A handler of this
    process's own is reset to the default in each child, so the child's Python installs its own.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        yield


@pytest.fixture()
def inner(pytester: pytest.Pytester) -> Inner:
    helper = Inner(pytester)
    helper.setup()
    return helper


def assert_usage_error(result: pytest.RunResult, *fragments: str) -> str:
    """Exit code 4, exactly one ``ERROR:`` line naming every fragment, no traceback, no test run."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, (result.ret, result.outlines, result.errlines)
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1, errors
    (line,) = errors
    assert line.startswith("ERROR: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    text = "\n".join(result.outlines + result.errlines)
    assert "Traceback" not in text
    assert not any(re.match(r"^=+ .*\b(passed|failed|errors?)\b.* in ", ln) for ln in result.outlines), text
    return line
