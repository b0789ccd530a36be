"""pytest hooks only: options and ini, the marker, validation, report header (and the scenarios the
tests use, after collection), terminal summary.

Light, because pytest imports it for every run of every project that installs the plugin: it
imports no SQLAlchemy, Faker, factory_boy, rich, filelock or click. The heavy half
(:mod:`pytest_demoseed.plugin.runtime`) loads through :meth:`DemoRun.activate
<pytest_demoseed.plugin.run.DemoRun.activate>` when the run asks for demo data:

- at configure time, when a demo option, ``DEMOSEED_*`` variable or ``demo_*`` ini value is
  given (so bad input ends the run before any test, with one ``ERROR:`` line and exit code 4);
- at collection, when a test uses a demo fixture (directly or through another fixture) or the
  ``demo_scenario`` marker. Under xdist the workers collect; the controller activates when it is
  given demo input, or when a worker reports demo data, for the terminal summary and clean-up.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import pytest

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.plugin import hookspecs
from pytest_demoseed.plugin.async_fixtures import *  # noqa: F403  (the async fixtures, and their per-loop helpers)
from pytest_demoseed.plugin.async_fixtures import ASYNC_FIXTURE_NAMES
from pytest_demoseed.plugin.fixtures import *  # noqa: F403  (the fixtures are this plugin's public surface)
from pytest_demoseed.plugin.fixtures import FIXTURE_NAMES, _demo_provided, _demo_provider  # noqa: F401  (private helper fixtures)
from pytest_demoseed.plugin.marker import MARKER, MARKER_HELP, RESET_MARKER_HELP, data_used, scenario_name
from pytest_demoseed.plugin.options import (
    DEFAULT_DATABASE,
    DEFAULT_SCENARIO,
    DEFAULT_SEED,
    add_options,
    demo_input,
)
from pytest_demoseed.plugin.run import begin_run, demo_run
from pytest_demoseed.scenario.registry import Registry


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """The run's own scenario registry, current before any conftest is imported."""
    begin_run(early_config)


def _print_scenarios(registry: Registry, write: Any) -> None:
    for scenario in registry:
        write(f"{scenario.name}: {scenario.description}")
        for name, values in scenario.defaults().items():
            shown = ", ".join(f"{key}={_show(value)}" for key, value in values.items())
            write(f"    {name}: {shown}")


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("demo_list_scenarios"):
        run = demo_run(config)
        try:
            run.register_hook_scenarios()
            _print_scenarios(run.registry, print)
        except ScenarioError as exc:  # a broken installed package or hook: one line, exit 4
            raise pytest.UsageError(str(exc)) from None
        return 0
    if config.getoption("demo_snapshot_keys"):
        # collect only: no test runs, and xdist does not start workers for a collection
        config.option.collectonly = True
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", RESET_MARKER_HELP)
    run = demo_run(config)
    handed_over = "demoseed" in (getattr(config, "workerinput", None) or {})
    if handed_over or demo_input(config) is not None:
        run.activate()


def pytest_sessionstart(session: pytest.Session) -> None:
    """The process that owns the run (controller, or the only one) takes the run's lease on the
    server and drops what crashed runs left behind, before any worker starts (if activated;
    else when it activates)."""
    demo_run(session.config).start_session()


def pytest_unconfigure(config: pytest.Config) -> None:
    state = demo_run(config).state
    if state is not None:
        with suppress(pytest.UsageError):
            state.end_run()


@pytest.hookimpl(optionalhook=True)  # xdist's hooks: the plugin works without xdist
def pytest_configure_node(node: Any) -> None:
    """Hand the controller's run id, and its resolved settings if it has them, to each worker."""
    run = demo_run(node.config)
    node.workerinput["demoseed_run_id"] = run.run_id
    if run.state is not None:
        node.workerinput["demoseed"] = run.state.settings.to_dict()


_COLLECTION_USAGE_ERROR = pytest.StashKey[str]()


def _uses_demoseed(item: pytest.Item) -> bool:
    """A demo fixture among the test's fixtures (the closure: also through other fixtures), or
    the marker."""
    names = getattr(item, "fixturenames", ())
    return (
        item.get_closest_marker(MARKER) is not None
        or not FIXTURE_NAMES.isdisjoint(names)
        or not ASYNC_FIXTURE_NAMES.isdisjoint(names)
    )


@pytest.hookimpl(trylast=True)  # after ``-k``/``-m`` deselected: only the tests that will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Activate if a test uses demo data, and validate every marker before any test runs: a
    bad one is a usage error, not a failure."""
    run = demo_run(config)
    if run.state is None and not any(_uses_demoseed(item) for item in items):
        return
    try:
        state = run.activate()
        state.check_markers(items)
        keys_to = config.getoption("demo_snapshot_keys")
        if keys_to:
            _write_keys(keys_to, state.snapshot_keys(items))
        if any(not ASYNC_FIXTURE_NAMES.isdisjoint(getattr(item, "fixturenames", ())) for item in items):
            from pytest_demoseed.plugin import async_runtime  # heavy, and only for async tests

            async_runtime.check_run(config, state.settings.db_url)
    except pytest.UsageError as exc:
        # an xdist worker: the controller raises it again (pytest_testnodedown), so the run
        # ends with the one line and exit code 4 instead of a crashed worker
        config.stash[_COLLECTION_USAGE_ERROR] = str(exc)
        raise


def _write_keys(target: str, keys: list[tuple[str, str]]) -> None:
    """``--demo-snapshot-keys``: one ``<key> <scenario>`` line per snapshot, sorted."""
    text = "".join(f"{key} {scenario}\n" for key, scenario in keys)
    if target == "-":
        print(text, end="")
    else:
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Reseed factory_boy's shared random right before the test body runs.

    pytest-randomly reseeds it (and Faker's) in its ``pytest_runtest_call``, after our fixtures
    seeded it during setup; this runs after that, so factories used in the test give the same
    values with or without pytest-randomly. The label differs from setup's, so a factory used
    in a fixture and again in the body does not repeat the same draws.
    """
    provided: Any = pyfuncitem.funcargs.get("_demo_provided")
    uses_factories = {"demo_factories", "demo_bind_factories", "demo_async_bind_factories"} & set(
        pyfuncitem.fixturenames
    )
    state = demo_run(pyfuncitem.config).state
    if provided is not None and uses_factories and state is not None:
        state.reseed_before_call(pyfuncitem, provided)


def pytest_report_header(config: pytest.Config) -> str:
    """The run's scenario, seed and database; with no demo input given they are the defaults."""
    state = demo_run(config).state
    if state is not None:
        return state.header()
    return f"demoseed: scenario={DEFAULT_SCENARIO} seed={DEFAULT_SEED} database={DEFAULT_DATABASE}"


def _scenarios_used(item: pytest.Item, default: str) -> set[str]:
    """The scenarios whose data ``item`` gets: its marker's (or the run's) through a per-test
    fixture, the run's through ``demo_engine``; none for a test that only reads settings."""
    own, engine = data_used(item)
    used = {scenario_name(item, default)} if own else set()
    if engine:
        used.add(default)
    return used


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    """``demoseed: tests use scenarios: small (3 tests), baseline (2 tests)``, after collection
    (the header is printed before it, so it shows the run's default only).

    Only once the plugin is active, and not in an xdist worker (its output is not the user's
    terminal; the controller collects nothing): under ``-n`` the summary lists what was built.
    """
    run = demo_run(config)
    if run.state is None or run.worker is not None or _COLLECTION_USAGE_ERROR in config.stash:
        return None  # not active, a worker, or collection ended in a usage error
    default = run.state.settings.scenario
    counts: dict[str, int] = {}
    for item in items:
        for name in _scenarios_used(item, default):
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    shown = ", ".join(f"{name} ({count} test{'' if count == 1 else 's'})" for name, count in ranked)
    return f"demoseed: tests use scenarios: {shown}"


@pytest.hookimpl(optionalhook=True)  # xdist's hooks: the plugin works without xdist
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    if output.get("demoseed_usage_error"):
        raise pytest.UsageError(output["demoseed_usage_error"])
    if output.get("demoseed_datasets"):
        demo_run(node.config).activate().datasets.extend(output["demoseed_datasets"])


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = demo_run(config).state
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["demoseed_datasets"] = list(state.datasets) if state is not None else []
        workeroutput["demoseed_usage_error"] = config.stash.get(_COLLECTION_USAGE_ERROR, None)
    elif state is not None:
        state.drop_snapshots()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = demo_run(config).state
    if state is None or not state.datasets:
        return
    terminalreporter.section("demoseed")
    for line in state.summary_lines():
        terminalreporter.write_line(line)
