"""The demoseed command through a real subprocess, against SQLite files and the PostgreSQL and MariaDB
servers (skipped if they are down, failed under CI=true)."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from servers import Server
from servers import db_server as db_server_fixture  # noqa: F401  (fixture `db_server`)
from servers import server as server_fixture  # noqa: F401  (fixture `server`)

from pytest_demoseed import database_fingerprint, get_scenario, seed
from pytest_demoseed.cli import main
from pytest_demoseed.scenario import registry
from pytest_demoseed.storage.engines import make_engine

BUILTINS = ("baseline", "small", "empty", "landslide", "close-race", "low-turnout", "large")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DEMOSEED_DATABASE_URL"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest_demoseed", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def events_and_report(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert "report" in lines[-1], lines[-1]
    return lines[:-1], lines[-1]["report"]


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("demoseed: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.stdout + result.stderr


# --- happy paths ----------------------------------------------------------------------------------


def test_list_shows_scenarios_descriptions_and_phase_defaults() -> None:
    result = run("list")
    assert result.returncode == 0, result.stderr
    out = "\n" + result.stdout
    for name in BUILTINS:
        assert f"\n{name}: " in out
    small = out.split("\nsmall: ")[1].split("\n\n")[0]
    assert "  attendance: enabled=true rate=0.5 batch_size=50" in small
    assert "  guarantees: enabled=true per_member=5 total_limit=none" in small
    detail = run("list", "small").stdout
    assert "attendance.rate=0.5 (0..1)  share of electors who vote" in detail


def test_seed_with_json_progress_then_fingerprint_matches(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "a.sqlite")
    result = run("seed", "--db-url", url, "--scenario", "small", "--create-schema", "--progress", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    events, report = events_and_report(result.stdout)
    for event in events:
        assert set(event) == {"status", "current_phase", "progress", "errors", "elapsed"}
    assert events[0]["status"] == "running" and events[-1]["status"] == "done"
    assert events[-1]["progress"]["electors"]["rows"] == 50
    assert report["counts"]["electors"] == 50 and report["scenario"] == "small"
    printed = run("fingerprint", "--db-url", url, "--scenario", "small")
    assert printed.returncode == 0 and printed.stdout.strip() == report["fingerprint"]


def test_two_databases_seeded_alike_have_one_fingerprint(tmp_path: Path) -> None:
    def seed_and_print(name: str) -> str:
        url = sqlite_url(tmp_path / name)
        done = run("seed", "--db-url", url, "--scenario", "small", "--create-schema", "--progress", "none")
        assert done.returncode == 0, done.stderr
        assert "electors 50" in done.stdout and "rows/s" in done.stdout
        printed = run("fingerprint", "--db-url", url, "--scenario", "small").stdout.strip()
        assert f"fingerprint {printed}" in done.stdout
        return printed

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(seed_and_print, ["a.sqlite", "b.sqlite"])
    assert a == b


def test_clear_deletes_the_scenarios_rows_and_seed_clear_rebuilds(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    first = seed(sqlite_url(path), "small", create_schema=True)
    again = run("seed", "--db-url", sqlite_url(path), "--scenario", "small", "--clear", "--progress", "none")
    assert again.returncode == 0, again.stderr
    assert f"fingerprint {first.fingerprint}" in again.stdout  # not doubled: cleared, then rebuilt
    cleared = run("clear", "--db-url", sqlite_url(path), "--scenario", "small")
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared 102 rows" in cleared.stdout
    engine = make_engine(sqlite_url(path))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM elections")).scalar_one() == 0
    engine.dispose()


def test_url_from_the_environment_and_json_lines_when_not_a_terminal(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "env.sqlite")
    result = run("seed", "--scenario", "empty", "--create-schema", env={"DEMOSEED_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    events, report = events_and_report(result.stdout)  # no --progress: auto, and stdout is a pipe
    assert events[-1]["status"] == "done" and report["counts"]["elections"] == 1


# --- bad input: one line, non-zero, database unchanged ---------------------------------------------


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    code: int
    fragments: tuple[str, ...]
    db: str = "seeded"  # seeded | empty | mismatched | absent | fresh (the tables, no rows)


BAD = {
    "unknown scenario": Bad(("seed", "--scenario", "nope"), 2, ("unknown scenario 'nope'", "small")),
    "set bad value": Bad(
        ("seed", "--scenario", "small", "--set", "attendance.rate=2"),
        2,
        ("attendance.rate", "between 0 and 1"),
    ),
    "negative seed": Bad(("seed", "--scenario", "small", "--seed", "-1"), 2, ("--seed",)),
    "no url": Bad(("seed", "--scenario", "small"), 2, ("--db-url", "DEMOSEED_DATABASE_URL")),
    "missing tables": Bad(("seed", "--scenario", "small"), 1, ("no table", "--create-schema"), "empty"),
    "schema mismatch": Bad(("seed", "--scenario", "small"), 1, ("does not match",), "mismatched"),
    "no such file": Bad(("seed", "--scenario", "small"), 1, ("no SQLite database file",), "absent"),
    "unreachable server": Bad(
        ("seed", "--scenario", "small", "--db-url", "postgresql+psycopg://root:hunter2@127.0.0.1:1/x"),
        1,
        ("cannot connect", "root:***@127.0.0.1:1"),
    ),
    "port not a number": Bad(
        ("seed", "--scenario", "small", "--db-url", "postgresql+psycopg://root:hunter2@127.0.0.1:abc/x"),
        2,
        ("port 'abc'", "not a number"),
    ),
}

#: More bad input, run in-process through the same ``main()`` (a subprocess each would be slow).
MORE_BAD = {
    "clear unknown scenario": Bad(("clear", "--scenario", "nope"), 2, ("unknown scenario",)),
    "set unknown key": Bad(
        ("seed", "--scenario", "small", "--set", "attendance.speed=1"),
        2,
        ("unknown setting attendance.speed", "attendance.rate"),
    ),
    "set without =": Bad(("seed", "--scenario", "small", "--set", "attendance"), 2, ("bad setting",)),
    "unparsable url": Bad(("seed", "--scenario", "small", "--db-url", "not a url"), 2, ("database URL",)),
    "text seed": Bad(("seed", "--scenario", "small", "--seed", "abc"), 2, ("--seed", "abc")),
    "bad progress": Bad(("seed", "--scenario", "small", "--progress", "loud"), 2, ("--progress",)),
    "unknown dialect": Bad(("seed", "--scenario", "small", "--db-url", "oracle2://x/y"), 2, ("dialect",)),
    "unknown command": Bad(("frobnicate",), 2, ("frobnicate",)),
    "set unknown phase": Bad(
        ("seed", "--scenario", "small", "--set", "votes.count=1"), 2, ("unknown phase 'votes'",)
    ),
    "settings that conflict": Bad(
        ("seed", "--scenario", "small", "--set", "guarantees.party_weights=1,2,3"), 2, ("party_weights",)
    ),
    "fingerprint unknown scenario": Bad(("fingerprint", "--scenario", "nope"), 2, ("unknown scenario",)),
    "clear missing tables": Bad(("clear", "--scenario", "small"), 1, ("no table",), "empty"),
    "fingerprint no such file": Bad(("fingerprint", "--scenario", "small"), 1, ("no SQLite",), "absent"),
    "seed again without --clear": Bad(
        ("seed", "--scenario", "small"),
        2,
        ("already holds scenario 'small' (102 rows, seed 42)", "--clear", "--append"),
    ),
    "clear and append": Bad(
        ("seed", "--scenario", "small", "--clear", "--append"), 2, ("exclude each other",)
    ),
    "disabled phase on a fresh database": Bad(
        ("seed", "--scenario", "small", "--set", "electors.enabled=false"),
        2,
        ("phase 'guarantees' needs rows from phase 'electors', which is disabled", "enable electors"),
        "fresh",
    ),
}


Outcome = tuple[subprocess.CompletedProcess[str], Path, "str | None"]


def make_database(root: Path, name: str, case: Bad) -> Path:
    """The database a case runs against: a seeded copy, one without the tables, one that differs."""
    path = root / f"{name.replace(' ', '_')}.sqlite"
    if case.db == "seeded":
        shutil.copy(root / "template.sqlite", path)
    elif case.db in ("empty", "mismatched"):
        engine = make_engine(sqlite_url(path))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
            if case.db == "mismatched":  # every table, but with an id column only
                for table in get_scenario("small").metadata.sorted_tables:
                    conn.execute(sa.text(f"CREATE TABLE {table.name} (id INTEGER PRIMARY KEY)"))
        engine.dispose()
    elif case.db == "fresh":
        engine = make_engine(sqlite_url(path))
        get_scenario("small").metadata.create_all(engine)
        engine.dispose()
    return path


def with_url(name: str, case: Bad, path: Path) -> tuple[str, ...]:
    if "--db-url" in case.args or name == "no url":
        return case.args
    return (*case.args, "--db-url", sqlite_url(path))


@pytest.fixture(scope="module")
def bad_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    seed(sqlite_url(root / "template.sqlite"), "small", create_schema=True)
    return root


@pytest.fixture(scope="module")
def bad_runs(bad_root: Path) -> dict[str, Outcome]:
    """Every subprocess case run at once (they are independent), each on its own database file,
    whose digest is taken before the run."""

    def execute(item: tuple[str, Bad]) -> tuple[str, Outcome]:
        name, case = item
        path = make_database(bad_root, name, case)
        before = digest(path)
        return name, (run(*with_url(name, case, path)), path, before)

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(execute, BAD.items()))


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_one_line_and_changes_nothing(name: str, bad_runs: dict[str, Outcome]) -> None:
    result, path, before = bad_runs[name]
    case = BAD[name]
    assert_one_error_line(result, case.code, *case.fragments)
    assert "hunter2" not in result.stdout + result.stderr
    assert digest(path) == before  # byte for byte; an absent file stays absent


@pytest.mark.parametrize("name", list(MORE_BAD))
def test_more_bad_input_in_process(
    name: str, bad_root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMOSEED_DATABASE_URL", raising=False)
    case = MORE_BAD[name]
    path = make_database(bad_root, name, case)
    before = digest(path)
    code = main(list(with_url(name, case, path)))
    captured = capsys.readouterr()
    assert_one_error_line(
        subprocess.CompletedProcess([], code, captured.out, captured.err), case.code, *case.fragments
    )
    assert digest(path) == before


# --- progress display ------------------------------------------------------------------------------


def test_progress_bar_shows_a_bar_per_phase_with_rows_per_second(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "bar.sqlite")
    result = run("seed", "--db-url", url, "--scenario", "small", "--create-schema", "--progress", "bar")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for item in get_scenario("small").phases:  # piped: rich prints the final bars once, plainly
        (bar,) = [line for line in lines if line.split()[:1] == [item.name]]
        assert re.search(r"━+ +[\d,]+ rows +[\d,]+ rows/s", bar), bar
    assert re.search(r"^ +50 rows|electors .* 50 rows ", result.stdout, re.M)
    assert "\x1b[" not in result.stdout and '{"status"' not in result.stdout
    assert "fingerprint " in lines[-1]


def test_auto_progress_on_a_terminal_draws_live_bars(tmp_path: Path) -> None:
    """stdout a real pseudo-terminal: ``auto`` picks the bars, redrawn in place, not JSON lines."""
    url = sqlite_url(tmp_path / "tty.sqlite")
    main_fd, child_fd = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "DEMOSEED_DATABASE_URL"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_demoseed",
            "seed",
            "--db-url",
            url,
            "--scenario",
            "baseline",
            "--create-schema",
        ],
        stdin=child_fd,
        stdout=child_fd,
        stderr=subprocess.PIPE,
        env=env,
        close_fds=True,
    )
    os.close(child_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[" in screen  # cursor control: the bars are redrawn in place
    assert '{"status"' not in screen
    for item in get_scenario("baseline").phases:
        assert re.search(rf"{item.name} +\S*━", screen), item.name
    assert re.search(r"2,000 rows +[\d,]+ rows/s", screen)
    assert "fingerprint " in screen


# --- Ctrl-C ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("ctrl_c_reaches_children")
def test_ctrl_c_mid_build_rolls_back_even_the_clear(tmp_path: Path) -> None:
    """SIGINT while electors are being written, in a build that cleared the database first:
    exit 130, one line, and the file is byte for byte what it was."""
    path = tmp_path / "interrupted.sqlite"
    seed(sqlite_url(path), "small", create_schema=True)
    before = digest(path)
    environ = {k: v for k, v in os.environ.items() if k != "DEMOSEED_DATABASE_URL"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_demoseed",
            "seed",
            "--db-url",
            sqlite_url(path),
            "--scenario",
            "baseline",
            "--clear",
            "--set",
            "electors.count=2000000",
            "--progress",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    assert process.stdout is not None and process.stderr is not None
    seen = []
    for line in process.stdout:
        event = json.loads(line)
        seen.append(event["current_phase"])
        if event["current_phase"] == "electors" and event["progress"]["electors"].get("rows"):
            process.send_signal(signal.SIGINT)
            break
    rest = process.stdout.read()
    code = process.wait(timeout=60)
    stderr = process.stderr.read()
    assert "electors" in seen, seen
    assert code == 130, (code, stderr)
    assert stderr.splitlines() == ["demoseed: error: interrupted; nothing was written"], stderr
    last = json.loads(rest.splitlines()[-1]) if rest.strip() else None
    assert last is None or last["status"] == "cancelled"
    assert digest(path) == before


# --- the console script ---------------------------------------------------------------------------


def test_the_console_script_is_installed_and_runs() -> None:
    scripts = [e for e in entry_points(group="console_scripts") if e.name == "demoseed"]
    assert [e.value for e in scripts] == ["pytest_demoseed.cli:main"]
    script = Path(sys.executable).parent / "demoseed"
    assert script.exists(), f"pip install put no demoseed script next to {sys.executable}"
    result = subprocess.run([str(script), "list"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "\nsmall: " in "\n" + result.stdout, result.stderr
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.strip() == "demoseed, version 0.1.0"
    # unlike `python -m`, a console script has no current directory on sys.path: --scenarios adds it
    own = subprocess.run(
        [str(script), "--scenarios", "chat_app.scenarios", "list"],
        cwd=CHAT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert own.returncode == 0 and "\nchat-small: " in own.stdout, own.stderr


# --- your own scenarios: --scenarios MODULE -----------------------------------------------------------

CHAT = Path(__file__).resolve().parent.parent / "examples" / "chat"


def run_in(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEMOSEED_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest_demoseed", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        cwd=cwd,
    )


def test_the_command_seeds_a_projects_own_scenario_from_its_module(tmp_path: Path) -> None:
    """The chat example's scenarios, from its directory, as its README says: seed, fingerprint, clear."""
    url = sqlite_url(tmp_path / "chat.sqlite")
    listed = run_in(CHAT, "list", "--scenarios", "chat_app.scenarios", "chat-small")
    assert listed.returncode == 0, listed.stderr
    assert "chat-small: 6 users, 5 channels" in listed.stdout and "channels.dm_share=0.3" in listed.stdout

    done = run_in(  # --scenarios after the subcommand, as users type it (the "Did you mean")
        CHAT,
        "seed",
        "--scenarios",
        "chat_app.scenarios",
        "--db-url",
        url,
        "--scenario",
        "chat-small",
        "--create-schema",
        "--progress",
        "json",
    )
    assert done.returncode == 0, done.stderr
    events, report = events_and_report(done.stdout)
    assert list(events[-1]["progress"]) == ["users", "channels", "messages", "reactions"]
    assert report["counts"]["users"] == 6 and report["counts"]["messages"] == 25

    env = {"DEMOSEED_SCENARIOS": "chat_app.scenarios:CHAT_SMALL"}  # the same through the environment
    printed = run_in(CHAT, "fingerprint", "--db-url", url, "--scenario", "chat-small", env=env)
    assert printed.returncode == 0 and printed.stdout.strip() == report["fingerprint"], printed.stderr
    twin = sqlite_url(tmp_path / "twin.sqlite")
    again = run_in(CHAT, "seed", "--db-url", twin, "--scenario", "chat-small", "--create-schema", env=env)
    assert events_and_report(again.stdout)[1]["fingerprint"] == report["fingerprint"]

    cleared = run_in(
        CHAT, "--scenarios", "chat_app.scenarios", "clear", "--db-url", url, "--scenario", "chat-small"
    )
    assert cleared.returncode == 0 and f"cleared {sum(report['counts'].values())} rows" in cleared.stdout


@pytest.mark.parametrize(
    ("module", "fragments"),
    [
        ("chat_app.nowhere", ("--scenarios chat_app.nowhere: cannot import it", "ModuleNotFoundError")),
        ("chat_app.models", ("defines no Scenario",)),
        ("chat_app.scenarios:NOPE", ("cannot import it", "AttributeError")),
        ("chat_app.models:Base", ("gave class Base, not a Scenario",)),
    ],
)
def test_bad_scenarios_modules_are_one_line(module: str, fragments: tuple[str, ...], tmp_path: Path) -> None:
    path = tmp_path / "untouched.sqlite"
    result = run_in(
        CHAT,
        "--scenarios",
        module,
        "seed",
        "--db-url",
        sqlite_url(path),
        "--scenario",
        "chat",
        "--create-schema",
    )
    assert_one_error_line(result, 2, *fragments)
    assert not path.exists()


def test_a_module_scenario_may_not_take_a_built_in_name(tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "from pytest_demoseed import get_scenario\n"
        "BASELINE = get_scenario('small').derive('baseline', 'not the real one')\n"
    )
    result = run_in(tmp_path, "--scenarios", "clash", "list")
    assert_one_error_line(result, 2, "a scenario named 'baseline' is already registered")


# --- database servers --------------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "mariadb"])
def server_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database on a real server (skipped, or failed under CI=true, if it is down)."""
    server = Server(request.param, tmp_path)
    server.create(server.name, None)
    try:
        # PostgreSQL's trust auth ignores the password: it is there to show it is never printed
        yield server.url.replace("root@", "root:s3cret@") if server.kind == "postgresql" else server.url
    finally:
        server.drop(server.name)


def server_state(url: str) -> tuple[list[str], str | None]:
    """The tables there, and the fingerprint of the ``small`` tables if they exist."""
    engine = make_engine(url)
    try:
        tables = sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return tables, (database_fingerprint(url, "small") if tables else None)


def test_seed_fingerprint_clear_and_bad_input_on_a_server(server_url: str, tmp_path: Path) -> None:
    args = ("--db-url", server_url, "--scenario", "small")
    missing = run("seed", *args, "--progress", "none")
    assert_one_error_line(missing, 1, "no table", "--create-schema")
    assert server_state(server_url) == ([], None)  # the failed run created nothing

    done = run("seed", *args, "--create-schema", "--progress", "json")
    assert done.returncode == 0, done.stderr
    events, report = events_and_report(done.stdout)
    assert events[-1]["status"] == "done" and report["counts"]["electors"] == 50
    assert "s3cret" not in done.stdout + done.stderr

    printed = run("fingerprint", *args)
    assert printed.returncode == 0, printed.stderr
    sqlite_twin = seed(sqlite_url(tmp_path / "twin.sqlite"), "small", create_schema=True)
    assert printed.stdout.strip() == report["fingerprint"] == sqlite_twin.fingerprint  # same on both
    seeded = server_state(server_url)

    bad_cases = [
        (("seed", *args, "--set", "attendance.rate=9"), 2, ("attendance.rate",)),
        (("seed", "--db-url", server_url, "--scenario", "nope"), 2, ("unknown scenario 'nope'",)),
        (("seed", *args, "--set", "electors.count=many"), 2, ("electors.count",)),
        (("seed", *args, "--clear", "--set", "votes.count=1"), 2, ("unknown phase 'votes'",)),
        (
            (
                "seed",
                "--db-url",
                server_url.rsplit("/", 1)[0] + "/demoseed_no_such_db",
                "--scenario",
                "small",
            ),
            1,
            ("cannot connect",),
        ),
    ]
    for bad_args, code, fragments in bad_cases:
        result = run(*bad_args)
        assert_one_error_line(result, code, *fragments)
        assert "s3cret" not in result.stdout + result.stderr
        assert server_state(server_url) == seeded, bad_args  # the same tables, the same rows

    again = run("seed", *args, "--clear", "--progress", "none")
    assert again.returncode == 0 and f"fingerprint {report['fingerprint']}" in again.stdout, again.stderr
    cleared = run("clear", *args)
    assert cleared.returncode == 0 and "cleared 102 rows" in cleared.stdout, cleared.stderr
    engine = make_engine(server_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM electors")).scalar_one() == 0
    engine.dispose()


def test_a_clear_stopped_by_a_row_that_points_at_demo_data_deletes_nothing(tmp_path: Path) -> None:
    """An application row still points at a demo elector: the clear names it and deletes nothing
    (found before any delete, not by the database's foreign key half-way)."""
    path = tmp_path / "referenced.sqlite"
    seed(sqlite_url(path), "small", create_schema=True)
    engine = make_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE app_notes (id INTEGER PRIMARY KEY, "
                "elector_id INTEGER NOT NULL REFERENCES electors(id))"
            )
        )
        conn.execute(sa.text("INSERT INTO app_notes (id, elector_id) VALUES (1, 1)"))
    engine.dispose()
    before = digest(path)
    result = run("clear", "--db-url", sqlite_url(path), "--scenario", "small")
    assert_one_error_line(
        result, 1, "row id 1 of table 'app_notes'", "references electors id 1", "nothing was deleted"
    )
    assert digest(path) == before


# --- --create-database (issue 15, item 7) ----------------------------------------------------------


def _exists(server: Server, url: str) -> bool:
    if server.is_server:
        return server.name in server.names()
    return Path(sa.engine.make_url(url).database or "").exists()


def test_create_database_creates_it_once_and_a_failed_seed_leaves_none(
    server: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On every backend: the database is made when missing and left alone when there; a seed
    that then fails drops the one it made; the new database carries no demoseed marker, so a
    pytest run's sweep of crashed runs' databases never takes it."""
    monkeypatch.delenv("DEMOSEED_DATABASE_URL", raising=False)
    url = server.url
    args = ["seed", "--db-url", url, "--scenario", "small", "--progress", "none", "--create-database"]
    assert not _exists(server, url)

    assert main(args) == 1  # no --create-schema: no tables, so the seed fails...
    assert "no table" in capsys.readouterr().err
    assert not _exists(server, url)  # ...and the database it created is gone again

    assert main([*args, "--create-schema"]) == 0, capsys.readouterr().err
    first = capsys.readouterr().out
    assert _exists(server, url)
    if server.is_server:
        assert server.databases()[server.name] is None  # unmarked: the user's, never swept
    fingerprint = database_fingerprint(url, "small")
    assert f"fingerprint {fingerprint}" in first

    assert main([*args, "--clear"]) == 0, capsys.readouterr().err  # exists: used as it is
    assert f"fingerprint {fingerprint}" in capsys.readouterr().out
    assert database_fingerprint(url, "small") == fingerprint


def test_seed_create_database_in_the_library_api(tmp_path: Path) -> None:
    path = tmp_path / "api.sqlite"
    report = seed(sqlite_url(path), "small", create_database=True, create_schema=True)
    assert path.exists() and report.fingerprint == database_fingerprint(sqlite_url(path), "small")


@pytest.mark.parametrize(
    "url, fragments",
    [
        ("postgresql+psycopg://root@127.0.0.1:1/demo", ("cannot connect to", "127.0.0.1:1")),
        ("mysql+pymysql://root@127.0.0.1:1/demo", ("cannot connect to", "127.0.0.1:1")),
        ("sqlite:////nonexistent-dir/demo.sqlite", ("directory", "does not exist")),
    ],
    ids=["postgresql-down", "mariadb-down", "sqlite-no-directory"],
)
def test_create_database_where_it_cannot_is_one_line(
    url: str, fragments: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["seed", "--db-url", url, "--scenario", "small", "--create-database", "--create-schema"])
    captured = capsys.readouterr()
    assert_one_error_line(subprocess.CompletedProcess([], code, captured.out, captured.err), 1, *fragments)


def test_create_database_without_the_privilege_is_one_line(
    db_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user who may not create databases: one line naming the database and the privilege."""
    with db_server.user_without_create(f"dsnc_{db_server.name[4:]}") as url:
        code = main(["seed", "--db-url", url, "--scenario", "small", "--create-database", "--create-schema"])
        captured = capsys.readouterr()
        needs = "CREATEDB" if db_server.kind == "postgresql" else "CREATE privilege"
        assert_one_error_line(
            subprocess.CompletedProcess([], code, captured.out, captured.err),
            1,
            f"cannot create database {db_server.name!r}",
            needs,
        )
        assert db_server.name not in db_server.names()


# --- per-row fallbacks in the command's summary -------------------------------------------------------

LAZY_TEAMS = """
import factory
from factory.alchemy import SQLAlchemyModelFactory
from models import Base, Team

from pytest_demoseed import Scenario, factory_batches, phase


class LazyTeamFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Team

    name = factory.LazyFunction(lambda: "Team")  # not compiled: built per row by the factory


@phase("teams", tables=("teams",))
def teams(ctx):
    yield from factory_batches(ctx, LazyTeamFactory, 5)


LAZY_TEAMS = Scenario("lazy-teams", (teams,), Base.metadata)
"""


def test_seed_prints_per_row_fallbacks_like_the_pytest_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lazy_teams_scenarios.py").write_text(LAZY_TEAMS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("DEMOSEED_SCENARIOS", raising=False)
    args = ["--scenarios", "lazy_teams_scenarios", "seed", "--scenario", "lazy-teams", "--create-schema"]
    try:
        with registry.using(registry.Registry()):  # the module's scenario does not outlive the test
            code = main([*args, "--db-url", sqlite_url(tmp_path / "a.sqlite"), "--progress", "none"])
            out = capsys.readouterr().out
            assert code == 0, out
            (line,) = [x for x in out.splitlines() if "per-row fallbacks" in x]
            assert line.startswith(
                "  per-row fallbacks: teams: LazyTeamFactory: 5 rows built per row by the factory "
                "for name (LazyFunction)"
            ), line
            assert main([*args, "--db-url", sqlite_url(tmp_path / "b.sqlite"), "--progress", "json"]) == 0
            _, report = events_and_report(capsys.readouterr().out)
            assert report["fallbacks"] == [line.removeprefix("  per-row fallbacks: ")]
            assert (
                main(
                    [
                        "seed",
                        "--scenario",
                        "small",
                        "--create-schema",
                        "--progress",
                        "none",
                        "--db-url",
                        sqlite_url(tmp_path / "c.sqlite"),
                    ]
                )
                == 0
            )
            assert "per-row fallbacks" not in capsys.readouterr().out  # only when there are some
    finally:
        sys.modules.pop("lazy_teams_scenarios", None)
