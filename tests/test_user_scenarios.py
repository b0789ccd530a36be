"""Scenarios over a user's own models: registered from conftest.py, from the hook, or from an
installed package's entry point; the fixtures, marker, ini and listing work on them unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from models import NOTES_EXTRA, NOTES_MODELS, POLLS_MODELS

from pytest_demoseed import Scenario, seed
from pytest_demoseed.scenario import registry
from pytest_demoseed.storage.engines import make_engine

#: A user's application: its models, factories and scenario, written as package ``notes_app``.
SCENARIOS = """
import datetime as dt
from pytest_demoseed import Batch, Scenario, phase, spread_times
from pytest_demoseed.settings_kinds import integer
from notes_app.models import Base, Notebook

CLOCK = dt.datetime(2026, 1, 1)


@phase("notebook", tables=("notebooks", "labels"), settings={"labels": integer(3)})
def notebook_phase(ctx):
    (notebook_id,) = ctx.allocate("notebooks", 1)
    ctx.share("notebook_id", notebook_id)
    yield Batch("notebooks", ("id", "title"), [(notebook_id, ctx.faker.catch_phrase())])
    codes = [f"L{i:03d}" for i in range(1, ctx["labels"] + 1)]  # string keys, assigned here
    ctx.share("labels", codes)
    yield Batch("labels", ("code", "name"), [(code, ctx.faker.word()) for code in codes])


@phase("notes", tables=("notes",), settings={"count": integer(12)}, requires=("notebook",))
def notes_phase(ctx):
    ids = ctx.allocate("notes", ctx["count"])
    times = spread_times(ctx.rng, len(ids), CLOCK - dt.timedelta(days=7), CLOCK)
    labels = ctx.need("labels", "notebook")
    rows = [(i, ctx.need("notebook_id", "notebook"), ctx.faker.sentence(), t, ctx.rng.choice(labels))
            for i, t in zip(ids, times)]
    yield Batch("notes", ("id", "notebook_id", "body", "written_at", "label_code"), rows)


NOTES = Scenario(
    name="{name}", description="a notebook with notes", phases=(notebook_phase, notes_phase),
    metadata=Base.metadata, clock=CLOCK, root_model=Notebook, root_key="notebook_id",
)
"""

FACTORIES = """
import datetime as dt
import factory
from factory.alchemy import SQLAlchemyModelFactory
from notes_app import models


class NoteFactory(SQLAlchemyModelFactory):
    class Meta:
        model = models.Note
        sqlalchemy_session_persistence = "commit"

    body = factory.Faker("sentence")
    written_at = dt.datetime(2026, 1, 1)
    notebook_id = 1
"""

#: The inner suite: the same for every way of registering the scenario.
TESTS = """
import pytest
import sqlalchemy as sa
from notes_app import factories
from notes_app.models import Label, Note, Notebook


def test_dataset_and_root(demo_dataset, demo_root, demo_session):
    assert demo_dataset.scenario == "{name}"
    assert demo_dataset.counts == {{"labels": 3, "notebooks": 1, "notes": 12}}
    assert isinstance(demo_root, Notebook) and len(demo_root.notes) == 12
    assert demo_session.get(Label, "L002") is not None


@pytest.mark.demo_scenario("{name}", seed=5, notes={{"count": 4}}, notebook={{"labels": 1}})
def test_marker_settings(demo_dataset, demo_session):
    assert demo_dataset.seed == 5
    assert demo_session.scalar(sa.select(sa.func.count(Note.id))) == 4
    assert demo_session.scalars(sa.select(Label.code)).all() == ["L001"]


def test_factory_commit(demo_session, demo_bind_factories, demo_root):
    demo_bind_factories(factories)
    factories.NoteFactory.create_batch(2, notebook_id=demo_root.id)
    assert demo_session.scalar(sa.select(sa.func.count(Note.id))) == 14


def test_next_sees_scenario(demo_session):
    assert demo_session.scalar(sa.select(sa.func.count(Note.id))) == 12
    assert factories.NoteFactory._meta.sqlalchemy_session is None


def test_extra_schema_from_ini(demo_session):
    assert "preferences" in sa.inspect(demo_session.connection()).get_table_names()
"""

INI = """
[pytest]
pythonpath = .
demo_scenario = {name}
demo_metadata = {metadata}
"""


@pytest.fixture(autouse=True)
def _own_registry() -> Iterator[None]:
    """Scenarios a test registers (``seed(Scenario)`` does) do not outlive it; in-process inner
    runs get their own registry from the plugin."""
    with registry.using(registry.Registry()):
        yield


def write_app(root: Path, name: str) -> None:
    package = root / "notes_app"
    package.mkdir(parents=True, exist_ok=True)
    files = {
        "__init__.py": "",
        "models.py": NOTES_MODELS,
        "extra.py": NOTES_EXTRA,
        "factories.py": FACTORIES,
        "scenarios.py": SCENARIOS.replace("{name}", name),
    }
    for filename, text in files.items():
        (package / filename).write_text(textwrap.dedent(text))


def write_project(
    pytester: pytest.Pytester, name: str, conftest: str, metadata: str = "notes_app.extra:metadata"
) -> None:
    write_app(pytester.path, name)
    pytester.makeini(INI.format(name=name, metadata=metadata))
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_notes=TESTS.format(name=name))


def test_scenario_registered_from_conftest(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        "notes",
        "from pytest_demoseed import register\nfrom notes_app.scenarios import NOTES\nregister(NOTES)\n",
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["demoseed: scenario=notes seed=42 *", "notes seed=42 fingerprint=*"])
    listing = pytester.runpytest("--demo-list-scenarios")
    listing.stdout.fnmatch_lines(["notes: a notebook with notes", "    notebook: enabled=true, labels=3"])


def test_scenario_from_the_hook(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        "notes-hook",
        "def pytest_demoseed_scenarios(config):\n"
        "    from notes_app.scenarios import NOTES\n"
        "    return NOTES\n",
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=5)
    pytester.runpytest("--demo-list-scenarios").stdout.fnmatch_lines(["notes-hook: a notebook with notes"])


def test_demo_metadata_fixture_override_instead_of_ini(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        "notes-fixture",
        "import pytest\nfrom pytest_demoseed import register\nfrom notes_app.scenarios import NOTES\n"
        "register(NOTES)\n\n"
        "@pytest.fixture(scope='session')\n"
        "def demo_metadata():\n"
        "    from notes_app.extra import metadata\n"
        "    return metadata\n",
        metadata="",
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=5)


def test_same_scenario_name_from_two_places_is_an_error(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        "baseline",
        "from pytest_demoseed import register\nfrom notes_app.scenarios import NOTES\nregister(NOTES)\n",
    )
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*a scenario named 'baseline' is already registered (pass replace=True)*"])


def write_installed_distribution(site: Path, name: str) -> None:
    """A package and its ``.dist-info`` on a path entry: what ``pip install`` leaves behind."""
    write_app(site, name)
    info = site / "notes_app-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: notes-app\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest_demoseed.scenarios]\nnotes = notes_app.scenarios:NOTES\n")


def test_scenario_from_an_installed_package_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = pytester.path / "site"
    write_installed_distribution(site, "notes-installed")
    monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makeini("[pytest]\ndemo_scenario = notes-installed\ndemo_metadata = notes_app.extra:metadata\n")
    pytester.makepyfile(test_notes=TESTS.format(name="notes-installed"))
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=5)
    listing = pytester.runpytest_subprocess("--demo-list-scenarios")
    listing.stdout.fnmatch_lines(["notes-installed: a notebook with notes"])


def test_the_command_line_sees_an_installed_scenario(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_installed_distribution(site, "notes-installed")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "pytest_demoseed"]
    listed = subprocess.run([*run, "list"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "notes-installed: a notebook with notes" in listed.stdout, listed.stderr
    url = f"sqlite:///{tmp_path}/notes.db"
    seed_args = ["seed", "--db-url", url, "--scenario=notes-installed", "--create-schema", "--progress=none"]
    seeded = subprocess.run([*run, *seed_args], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    printed = subprocess.run(
        [*run, "fingerprint", "--db-url", url, "--scenario", "notes-installed"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert printed.returncode == 0 and len(printed.stdout.strip()) == 32, printed.stderr


def test_the_readme_scenario_example_builds_as_described(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's own-scenario code, run over the models it imports: what a reader would copy."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if '@phase("votes"' in b]
    package = tmp_path / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(POLLS_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "myapp", raising=False)
    monkeypatch.delitem(sys.modules, "myapp.models", raising=False)
    namespace: dict[str, object] = {"__name__": "readme_scenarios"}
    exec(compile(block, "README.md", "exec"), namespace)
    polls, quiet = namespace["POLLS"], namespace["QUIET"]
    assert isinstance(polls, Scenario) and isinstance(quiet, Scenario)

    report = seed(f"sqlite:///{tmp_path}/polls.db", polls, create_schema=True)
    assert dict(report.counts) == {"polls": 3, "votes": 1000}
    again = seed(f"sqlite:///{tmp_path}/again.db", polls, create_schema=True)
    assert again.fingerprint == report.fingerprint
    engine = make_engine(f"sqlite:///{tmp_path}/polls.db")
    with engine.connect() as conn:
        per_poll = [
            n
            for _, n in conn.execute(
                sa.text("SELECT poll_id, count(*) FROM votes GROUP BY poll_id ORDER BY poll_id")
            )
        ]
        evening = conn.execute(
            sa.text("SELECT count(*) FROM votes WHERE created_at >= '2026-03-01 06:00:00'")
        ).scalar_one()
    engine.dispose()
    assert per_poll == sorted(per_poll, reverse=True) and per_poll[0] > per_poll[-1]  # Zipf-like
    assert 400 < evening < 600  # half the votes in the last 6 hours, as the curve says
    assert seed(f"sqlite:///{tmp_path}/quiet.db", quiet, create_schema=True).counts["votes"] == 100


def test_a_broken_entry_point_is_one_line_from_the_command(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "broken_app-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-app\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest_demoseed.scenarios]\nbroken = broken_app.missing:X\n")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    listed = subprocess.run(
        [sys.executable, "-m", "pytest_demoseed", "list"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert listed.returncode == 1, listed.stderr
    (line,) = listed.stderr.splitlines()
    assert line.startswith("demoseed: error: entry point broken = broken_app.missing:X"), line
    assert "ModuleNotFoundError" in line and "Traceback" not in listed.stderr


@pytest.mark.parametrize("args", [["--demo-list-scenarios"], []], ids=["list", "run"])
def test_a_broken_entry_point_is_one_usage_error_line_in_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    site = pytester.path / "site"
    info = site / "broken_app-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-app\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest_demoseed.scenarios]\nbroken = broken_app.missing:X\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makepyfile(test_x="def test_x(demo_dataset):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.outlines + result.errlines
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: "), errors
    assert "broken = broken_app.missing:X" in errors[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
