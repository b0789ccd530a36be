"""pytest hooks only: options and ini, the marker, validation, report header, terminal summary."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import pytest

from pytest_demoseed.errors import ScenarioError
from pytest_demoseed.generate.determinism import reseed_factory_boy
from pytest_demoseed.plugin import hookspecs
from pytest_demoseed.plugin.fixtures import *  # noqa: F403  (the fixtures are this plugin's public surface)
from pytest_demoseed.plugin.fixtures import _demo_provided, _demo_provider, load_metadata  # noqa: F401  (private helper fixtures)
from pytest_demoseed.plugin.marker import MARKER, MARKER_HELP, marker_spec
from pytest_demoseed.plugin.settings import DEFAULT_SCENARIO, DEFAULT_SEED, DemoSettings
from pytest_demoseed.plugin.state import demo_state, install_state, summarize
from pytest_demoseed.report.summary import describe_phases
from pytest_demoseed.scenario.declare import Scenario
from pytest_demoseed.scenario.registry import all_scenarios, register
from pytest_demoseed.storage.backends import backend_for
from pytest_demoseed.storage.engines import safe_url

DEMO_FIXTURES = frozenset(
    {
        "demo_engine",
        "demo_dataset",
        "demo_session",
        "demo_connection",
        "demo_election",
        "demo_root",
        "demo_factories",
        "demo_bind_factories",
        "demo_faker",
        "demo_seed",
    }
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("demoseed", "pytest-demoseed: reproducible demo data")
    group.addoption(
        "--demo-seed",
        dest="demo_seed",
        metavar="INT",
        help=f"root seed of every scenario (env DEMOSEED_SEED, ini demo_seed; default {DEFAULT_SEED})",
    )
    group.addoption(
        "--demo-scenario",
        dest="demo_scenario",
        metavar="NAME",
        help="scenario for tests without a demo_scenario marker (env DEMOSEED_SCENARIO, ini "
        f"demo_scenario; default {DEFAULT_SCENARIO}); --demo-list-scenarios shows them",
    )
    group.addoption(
        "--demo-db-url",
        dest="demo_db_url",
        metavar="URL",
        help="database of the default scenario; other scenarios and xdist workers get sibling "
        "databases (env DEMOSEED_DATABASE_URL, ini demo_db_url; default: a SQLite file in "
        "pytest's base temp dir)",
    )
    group.addoption(
        "--demo-set",
        dest="demo_set",
        action="append",
        default=[],
        metavar="PHASE.KEY=VALUE",
        help="override a phase setting, e.g. attendance.rate=0.5 (repeatable; merged over ini "
        "demo_set lines, the option wins per key)",
    )
    group.addoption(
        "--demo-list-scenarios",
        action="store_true",
        default=False,
        help="list every scenario, its description and phase defaults, then exit",
    )
    group.addoption(
        "--demo-reuse",
        action="store_true",
        default=False,
        help="keep built snapshots between runs (pytest's cache dir or --demo-cache-dir) and "
        "reuse one while its key matches (ini demo_reuse)",
    )
    group.addoption(
        "--demo-rebuild",
        action="store_true",
        default=False,
        help="ignore kept snapshots and build every scenario afresh",
    )
    group.addoption(
        "--demo-cache-dir",
        dest="demo_cache_dir",
        metavar="DIR",
        help="where --demo-reuse keeps snapshots (default: .pytest_cache/d/demoseed)",
    )
    group.addoption(
        "--demo-keep",
        action="store_true",
        default=False,
        help="keep the per-worker test databases after the run (to inspect them)",
    )
    group.addoption(
        "--demo-progress",
        dest="demo_progress",
        metavar="MODE",
        help="live build progress: auto (on a terminal, for builds over a second), bar, none "
        "(ini demo_progress; default auto)",
    )
    parser.addini("demo_seed", "root seed of every scenario (default 42)", default="")
    parser.addini("demo_scenario", "default scenario (default baseline)", default="")
    parser.addini("demo_db_url", "database URL of the default scenario", default="")
    parser.addini("demo_set", "phase setting overrides, one PHASE.KEY=VALUE a line", type="linelist")
    parser.addini("demo_reuse", "keep and reuse snapshots between runs (true/false)", default="")
    parser.addini("demo_progress", "live build progress: auto, bar or none", default="")
    parser.addini(
        "demo_metadata",
        "extra schema to create in test databases, e.g. myapp.models:Base.metadata",
        default="",
    )


def _print_scenarios(write: Any) -> None:
    for scenario in all_scenarios():
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
        try:
            _register_hook_scenarios(config)
            _print_scenarios(print)
        except ScenarioError as exc:  # a broken installed package or hook: one line, exit 4
            raise pytest.UsageError(str(exc)) from None
        return 0
    return None


def _register_hook_scenarios(config: pytest.Config) -> None:
    for found in config.hook.pytest_demoseed_scenarios(config=config):
        for scenario in [found] if isinstance(found, Scenario) else list(found or ()):
            register(scenario, replace=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    _register_hook_scenarios(config)
    settings = DemoSettings.from_config(config)
    if settings.db_url:
        try:
            backend = backend_for(settings.db_url)
            backend.sibling_url(settings.db_url, [])
            if getattr(config, "workerinput", None) is None:  # workers: the controller checked
                backend.check_reachable(settings.db_url)
        except ScenarioError as exc:
            raise pytest.UsageError(f"--demo-db-url: {exc}") from None
    if settings.metadata_path:
        load_metadata(settings.metadata_path)  # a path that cannot be imported: exit 4 now
    install_state(config, settings)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The process that owns the run (controller, or the only one) takes the run's lease on the
    server and drops what crashed runs left behind, before any worker starts."""
    if getattr(session.config, "workerinput", None) is not None:
        return
    try:
        demo_state(session.config).start_run()
    except ScenarioError as exc:
        raise pytest.UsageError(f"--demo-db-url: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    with suppress(pytest.UsageError):
        demo_state(config).end_run()


@pytest.hookimpl(optionalhook=True)  # xdist's hooks: the plugin works without xdist
def pytest_configure_node(node: Any) -> None:
    """Hand the controller's resolved settings and run id to each xdist worker."""
    state = demo_state(node.config)
    node.workerinput["demoseed"] = state.settings.to_dict()
    node.workerinput["demoseed_run_id"] = state.run_id


_WORKER_USAGE_ERROR = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Validate every marker before any test runs: a bad one is a usage error, not a failure."""
    settings = demo_state(config).settings
    try:
        for item in items:
            mark = item.get_closest_marker(MARKER)
            if mark is not None:
                marker_spec(mark, settings, item.nodeid)
    except pytest.UsageError as exc:
        # an xdist worker: the controller raises it again (pytest_testnodedown), so the run
        # ends with the one line and exit code 4 instead of a crashed worker
        config.stash[_WORKER_USAGE_ERROR] = str(exc)
        raise


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Reseed factory_boy's shared random right before the test body runs.

    pytest-randomly reseeds it (and Faker's) in its ``pytest_runtest_call``, after our fixtures
    seeded it during setup; this runs after that, so factories used in the test give the same
    values with or without pytest-randomly. The label differs from setup's, so a factory used
    in a fixture and again in the body does not repeat the same draws.
    """
    provided: Any = pyfuncitem.funcargs.get("_demo_provided")
    uses_factories = {"demo_factories", "demo_bind_factories"} & set(pyfuncitem.fixturenames)
    if provided is not None and uses_factories:
        reseed_factory_boy(provided.dataset.seed, "test", pyfuncitem.nodeid, "call")


def pytest_report_header(config: pytest.Config) -> str:
    state = demo_state(config)
    url = state.settings.db_url or "sqlite (a file in pytest's base temp dir)"
    return (
        f"demoseed: scenario={state.settings.scenario} seed={state.settings.seed} "
        f"database={safe_url(url) if state.settings.db_url else url}"
    )


@pytest.hookimpl(optionalhook=True)  # xdist's hooks: the plugin works without xdist
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    if output.get("demoseed_usage_error"):
        raise pytest.UsageError(output["demoseed_usage_error"])
    demo_state(node.config).datasets.extend(output.get("demoseed_datasets", []))


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = demo_state(session.config)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["demoseed_datasets"] = list(state.datasets)
        workeroutput["demoseed_usage_error"] = session.config.stash.get(_WORKER_USAGE_ERROR, None)
    else:
        state.drop_snapshots()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = demo_state(config)
    if not state.datasets:
        return
    write = terminalreporter.write_line
    terminalreporter.section("demoseed")
    seen: dict[str, list[dict[str, Any]]] = {}
    for item in state.datasets:
        seen.setdefault(item["spec_key"], []).append(item)
    for dataset, items in zip(summarize([v[0] for v in seen.values()]), seen.values(), strict=True):
        write(
            f"{dataset.scenario} seed={dataset.seed} fingerprint={dataset.fingerprint} "
            f"({dataset.total_rows:,} rows)"
        )
        write("  rows: " + ", ".join(f"{t} {n:,}" for t, n in dataset.counts.items()))
        write("  phases: " + describe_phases(dataset))
        if dataset.fallbacks:
            write("  per-row fallbacks: " + "; ".join(dataset.fallbacks))
        for item in sorted(items, key=lambda d: d["worker"]):
            write(f"  {item['worker']}: {_timing(item)} -> {item['database']}")


def _timing(item: dict[str, Any]) -> str:
    """``built in 1.2s, cloned in 0.05s`` or ``cloned in 0.05s (waited 1.2s for the build)``."""
    clone, wait = item.get("clone_seconds", 0.0), item.get("wait_seconds", 0.0)
    text = f"cloned in {clone:.3f}s"
    if item["source"] == "built":
        text = f"built in {item.get('snapshot_build_seconds') or item['source_seconds']:.3f}s, " + text
    return text + (f" (waited {wait:.3f}s for the snapshot lock)" if wait >= 0.01 else "")
