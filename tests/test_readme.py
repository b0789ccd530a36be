"""Every Python and shell block of README.md runs here, in order, in one temp dir, on SQLite.

The blocks are found and run by **Sybil** rather than pytest-examples or a hand-made extractor:
it reads Markdown fences and HTML-comment directives with its own lexers, gives the blocks of a
document one shared namespace (so later blocks build on earlier ones, as a reader's session
does), has a skip marker with a reason (``<!-- skip: next "why" -->``) and hidden setup
(``<!-- invisible-code-block: python -->``) that stay in the README beside the block they are
about, and takes a custom evaluator per language, which the shell blocks need. pytest-examples
runs Python blocks only, each on its own, and has neither marker.

The rules, one per kind of block:

- ``python`` blocks are executed in the README's shared namespace, in the test's temp dir (the
  current directory), so ``sqlite:///demo.sqlite`` is one file that later blocks find again. A
  block that defines ``test_*`` functions is a test module: it is written to a file and run by
  an inner pytest run (in-process), which must pass. ``myapp`` (the reader's own application
  in "Your own scenarios") is a small package written by :data:`MYAPP` below.
- ``bash`` blocks: each line, split by ``shlex`` (comments dropped) and at ``&&``:
  ``demoseed ...`` (or ``.venv/bin/demoseed ...``) runs in-process through
  :func:`pytest_demoseed.cli.main` and must exit 0; ``pytest ARGS`` runs the test blocks seen so
  far with ARGS in an in-process inner run, without ``-n N`` (xdist needs worker processes;
  tests/test_backends_parallel.py covers it); a bare ``.venv/bin/pytest`` is this project's own
  suite and is not run from inside it. ``python3 -m venv`` and ``.venv/bin/pip install`` are not
  run here (a fresh venv and an install take a minute and the network): ``.ci/run`` makes a fresh
  venv and installs with ``pip install -e ".[test]"`` as the README says, and here the install
  line must name only extras that pyproject.toml defines. Any other command fails the test: a new
  kind of line needs a rule here or a skip marker in the README.
- A block that cannot run as written carries ``<!-- skip: next "reason" -->`` (the command
  synopsis, the benchmarks); the Celery sketch runs against stand-ins for ``app`` and ``cache``
  given in an invisible block just before it.
- ``json``, ``toml`` and ``yaml`` (CI recipes) blocks are data, not run; a fence with no language fails
  :func:`test_every_block_has_a_language`, so no shell block can slip past unrun.

After the blocks, :func:`test_readme_blocks` checks what they promise (the quick start's
fingerprint, the thread example ending ``done``, the Celery task's states, the own-scenario
phases' rows).
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
import unittest
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import tomllib
from models import POLLS_MODELS
from sybil import Example, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown import CodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from pytest_demoseed import Batch, Scenario, clear, phase, seed
from pytest_demoseed.cli import main as demoseed_main
from pytest_demoseed.settings_kinds import integer

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RUN_LANGUAGES = {"python", "bash"}
DATA_LANGUAGES = {"json", "toml", "yaml"}  # yaml: CI recipes, data for a CI service

#: The reader's application the "Your own scenarios" blocks import: models and a factory.
MYAPP = {
    "myapp/__init__.py": "",
    "myapp/models.py": POLLS_MODELS
    + """
class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))


class Player(Base):
    __tablename__ = "players"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(sa.String(80))
    joined_on: Mapped[dt.date] = mapped_column(sa.Date)
    team: Mapped[Team] = relationship()


class Artist(Base):
    __tablename__ = "artists"
    code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))


class Album(Base):
    __tablename__ = "albums"
    code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    artist_code: Mapped[str] = mapped_column(sa.ForeignKey("artists.code"))
    title: Mapped[str] = mapped_column(sa.String(80))
    artist: Mapped[Artist] = relationship()


class Track(Base):
    __tablename__ = "tracks"
    album_code: Mapped[str] = mapped_column(sa.ForeignKey("albums.code"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(80))
    album: Mapped[Album] = relationship()
""",
    "myapp/factories.py": """
import factory

from myapp.models import Album, Artist, Player, Team, Track


class TeamFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"team {n}")


class PlayerFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Player

    team = factory.SubFactory(TeamFactory)
    name = factory.Faker("name")


class ArtistFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Artist

    name = factory.Faker("name")


class AlbumFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Album

    code = factory.Sequence(lambda n: f"AL{n:04d}")
    artist = factory.SubFactory(ArtistFactory)
    title = factory.Faker("city")


class TrackFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Track

    album = factory.SubFactory(AlbumFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda o: f"{o.album_code} #{o.number}")
""",
}


class ReadmeRun:
    """The evaluators for one run of the README, and what its blocks left behind."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.test_files: list[Path] = []
        self.outputs: list[tuple[list[str], str]] = []
        self.not_run: list[str] = []
        self.extras = set(
            tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        )

    # -- python ------------------------------------------------------------------------------
    def python(self, example: Example) -> None:
        tree = ast.parse(str(example.parsed))
        if any(isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body):
            path = self.pytester.path / f"test_readme_line{example.line}.py"
            path.write_text(str(example.parsed))
            self.test_files.append(path)
            self._inner_pytest([str(path)], f"the test block at README.md line {example.line}")
        else:
            PythonEvaluator()(example)

    def _inner_pytest(self, args: list[str], what: str) -> None:
        result = self.pytester.runpytest_inprocess("-p", "no:randomly", *args)
        outcomes = result.parseoutcomes()
        assert result.ret == 0 and outcomes.get("passed", 0) > 0, f"{what}: {outcomes}\n" + "\n".join(
            result.outlines[-40:]
        )

    # -- shell -------------------------------------------------------------------------------
    def shell(self, example: Example) -> None:
        text = str(example.parsed).replace("\\\n", " ")
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            commands: list[list[str]] = [[]]
            for word in words:
                if word == "&&":
                    commands.append([])
                else:
                    commands[-1].append(word)
            venv = False
            for command in (c for c in commands if c):
                venv = self._command(command, venv, f"README.md line {example.line}: {line.strip()}")

    def _command(self, words: list[str], venv: bool, where: str) -> bool:
        """Run (or check) one command; return whether a venv was made earlier on the line."""
        name, args = words[0], words[1:]
        if words[:3] == ["python3", "-m", "venv"]:
            self.not_run.append(" ".join(words))
            return True
        if name.startswith(".venv/bin/"):
            assert venv, f"{where}: {name} before `python3 -m venv .venv` on the line"
            name = name.removeprefix(".venv/bin/")
        if name == "pip":
            self._check_install(args, where)
        elif name == "demoseed":
            self._demoseed(args, where)
        elif name == "pytest" and not args:
            self.not_run.append("pytest (this project's own suite)")
        elif name == "pytest":
            self._inner_pytest([*_without_workers(args), *map(str, self.test_files)], where)
        else:
            pytest.fail(
                f"{where}: no rule to run {name!r}: add one in tests/test_readme.py or mark it skipped"
            )
        return venv

    def _check_install(self, args: list[str], where: str) -> None:
        assert args[:2] == ["install", "-e"] and len(args) == 3, f"{where}: expected pip install -e SPEC"
        match = re.fullmatch(r"\.(?:\[(?P<extras>[\w,-]+)\])?", args[2])
        assert match, f"{where}: {args[2]!r} is not this checkout (. or .[extras])"
        extras = set(filter(None, (match["extras"] or "").split(",")))
        assert extras <= self.extras, f"{where}: no such extra {sorted(extras - self.extras)}"
        self.not_run.append(" ".join(["pip", *args]))

    def _demoseed(self, args: list[str], where: str) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = demoseed_main(args)
        assert code == 0, f"{where}: exit {code}: {err.getvalue()}"
        self.outputs.append((args, out.getvalue()))


def _without_workers(args: list[str]) -> list[str]:
    """``-n 4`` / ``-n4`` / ``--numprocesses=4`` dropped: an in-process run has no workers."""
    kept: list[str] = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in ("-n", "--numprocesses"):
            skip_next = True
        elif not re.fullmatch(r"-n\d+|--numprocesses=\S+", arg):
            kept.append(arg)
    return kept


@contextlib.contextmanager
def _as_pytest_skip() -> Iterator[None]:
    """Sybil's skip marker raises unittest's SkipTest: report it as pytest's skip, with its reason."""
    try:
        yield
    except unittest.SkipTest as exc:
        pytest.skip(str(exc))


def test_readme_blocks(pytester: pytest.Pytester, subtests: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every block in order, each a subtest named by its line; then what the blocks promise."""
    monkeypatch.delenv("DEMOSEED_DATABASE_URL", raising=False)
    monkeypatch.delenv("DEMOSEED_SCENARIOS", raising=False)
    for relative, source in MYAPP.items():
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source.lstrip())
    pytester.syspathinsert()
    run = ReadmeRun(pytester)
    sybil = Sybil(
        parsers=[
            CodeBlockParser("python", run.python),
            CodeBlockParser("bash", run.shell),
            SkipParser(),
        ],
        path="..",
        filenames=["README.md"],
    )
    document = sybil.parse(README)
    examples = list(document.examples())
    # Sybil found the blocks: a lexer that matched nothing would otherwise pass vacuously.
    assert len([e for e in examples if e.region.evaluator in (run.python, run.shell)]) >= 10
    for example in examples:
        if example.region.evaluator not in (run.python, run.shell):  # a skip marker: no subtest
            example.evaluate()
            continue
        with subtests.test(msg=f"README.md line {example.line}"), _as_pytest_skip():
            example.evaluate()

    namespace = document.namespace
    with subtests.test(msg="the quick start's fingerprint is the one the README shows"):
        shown = re.search(r"\(`([0-9a-f]{32})` for `baseline`, seed 42", README.read_text())
        assert shown, "the quick start names no fingerprint"
        quick = [out for args, out in run.outputs if args[:1] == ["seed"] and "baseline" in args]
        assert quick and shown[1] in quick[0], quick
    with subtests.test(msg="the thread example ends done"):
        assert namespace["status"].latest()["status"] == "done"
    with subtests.test(msg="the Celery sketch publishes each event and returns the report"):
        url = "sqlite:///celery.sqlite"
        seed(url, "empty", create_schema=True)  # the schema, then no rows: the task seeds
        clear(url, "empty")
        result = namespace["seed_demo"](url, "small", 7)
        assert result["scenario"] == "small" and result["seed"] == 7
        states = namespace["app"].published
        assert states and states[-1][0] == "PROGRESS" and states[-1][1]["status"] == "done"
    with subtests.test(msg="the own-scenario phases make their rows"):
        polls = seed("sqlite:///polls.sqlite", namespace["POLLS"], create_schema=True)
        assert _made(polls.counts) == {"polls": 3, "votes": 1000}
        quiet = seed("sqlite:///quiet.sqlite", namespace["QUIET"], create_schema=True)
        assert quiet.counts["votes"] == 100
        players = seed(
            "sqlite:///players.sqlite",
            _players_scenario(namespace),
            settings={"players": {"count": 250}},
            create_schema=True,
        )
        assert _made(players.counts) == {"teams": 4, "players": 250}


def _made(counts: Mapping[str, int]) -> dict[str, int]:
    """Tables with rows (the models share one metadata; a scenario may list the others with 0)."""
    return {table: rows for table, rows in counts.items() if rows}


def _players_scenario(namespace: dict[str, Any]) -> Scenario:
    """The README's ``players`` phase after a small ``teams`` phase it requires."""
    from myapp.models import Base  # written by the test into its temp dir

    @phase("teams", tables=("teams",), settings={"count": integer(4)})
    def teams(ctx: Any) -> Iterator[Batch]:
        ids = ctx.allocate("teams", ctx["count"])
        ctx.share("team_ids", list(ids))
        yield Batch("teams", ("id", "name"), [(i, f"team {i}") for i in ids])

    return Scenario(name="players", phases=(teams, namespace["players"]), metadata=Base.metadata)


def test_every_block_has_a_language() -> None:
    """A fence with no language (or an unknown one) would be skipped silently: name it."""
    lexer = RawFencedCodeBlockLexer(
        info_pattern=re.compile(r"(?P<language>[^\n]*)$\n", re.MULTILINE), mapping={"language": "language"}
    )
    document = Sybil(parsers=[], path="..", filenames=["README.md"]).parse(README)
    found = [
        (document.line_column(region.start), region.lexemes["language"].strip()) for region in lexer(document)
    ]
    assert found
    unknown = [
        (where, language) for where, language in found if language not in RUN_LANGUAGES | DATA_LANGUAGES
    ]
    assert unknown == [], f"fences must be one of {sorted(RUN_LANGUAGES | DATA_LANGUAGES)}"


def test_the_command_synopsis_names_only_real_options() -> None:
    """The synopsis is skipped as a run (its URL and NAME are placeholders), so check it another
    way: every ``--option`` it shows exists on its subcommand (or the group)."""
    from pytest_demoseed.cli import cli

    blocks: list[str] = []
    parser = CodeBlockParser("bash", lambda example: blocks.append(str(example.parsed)))
    document = Sybil(parsers=[parser], path="..", filenames=["README.md"]).parse(README)
    for example in document.examples():
        example.evaluate()
    synopsis = next(block for block in blocks if block.startswith("demoseed list"))
    commands: list[str] = []
    for line in synopsis.splitlines():
        text = line.split("  #")[0]
        if line.startswith((" ", "\t")):
            commands[-1] += text
        else:
            commands.append(text)
    group_options = {opt for param in cli.params for opt in param.opts}
    for command in commands:
        words = [w for w in command.split()[1:] if w.isidentifier()]
        sub = cli.commands[next(w for w in words if w in cli.commands)]
        known = group_options | {opt for param in sub.params for opt in param.opts}
        shown = set(re.findall(r"--[a-z][a-z-]*", command))
        assert shown <= known, f"{command.strip()!r}: {sorted(shown - known)} not options of {sub.name}"
