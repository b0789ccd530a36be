"""Snapshots across CI machines, on every backend: the keys a run needs, a cache directory that
travels to another machine (a new path, a server with no snapshot of it) and is loaded instead of
built, damaged files rebuilt and named, backends side by side in one cache directory, and the
housekeeping commands.

"Another machine" is simulated on this one: the cache directory is copied to a new path (so the
server snapshots, named for the directory and host, are not found) and the original's snapshot
databases are dropped. Each test is one inner ``-n 2`` run that builds, then in-process runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import SERVERS, Server, db_server, drop_cache, run, run_inprocess, server  # noqa: F401  (fixtures)
from summary import read_summary

from pytest_demoseed.cli import main
from pytest_demoseed.storage.kept import read_sidecar

INNER = """
import pytest


@pytest.mark.parametrize("n", range(2))
def test_default(n, demo_dataset):
    assert demo_dataset.scenario == "small" and demo_dataset.seed == 42


@pytest.mark.demo_scenario("small", seed=1)
def test_seed_1(demo_dataset):
    assert demo_dataset.seed == 1


@pytest.mark.demo_scenario("small", seed=2)
def test_seed_2(demo_session, demo_dataset):
    assert demo_dataset.seed == 2
"""
#: The damages each backend's kept files get (one snapshot each): all three on SQLite, where a
#: snapshot costs milliseconds; one each on the servers, where each costs a database or three.
DAMAGES = {"sqlite": ("truncate", "flip", "missing"), "postgresql": ("truncate",), "mariadb": ("flip",)}
WORDS = {"truncate": " is truncated (", "flip": " is corrupted (", "missing": " is missing ("}


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 3])
    elif how == "flip":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:  # half copied: the file never arrived
        path.unlink()


def _snapshot_file(cache: Path, key: str) -> Path:
    """The file a damage hits: the SQLite snapshot, or a server snapshot's largest portable file."""
    sqlite_file = cache / f"{key}.sqlite"
    if sqlite_file.exists():
        return sqlite_file
    return max((cache / f"{key}.portable").iterdir(), key=lambda p: p.stat().st_size)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture()
def demoseed(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """The ``demoseed`` command run in-process (its CLI tests run it as a subprocess too)."""

    def call(*args: str) -> Ran:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return call


def test_a_cache_directory_travels_to_another_machine(
    pytester: pytest.Pytester,
    server: Server,  # noqa: F811
    tmp_path: Path,
    demoseed: Callable[..., Ran],
) -> None:
    damages = DAMAGES[server.kind]
    inner = (
        INNER if len(damages) == 3 else INNER[: INNER.index('@pytest.mark.demo_scenario("small", seed=1)')]
    )
    pytester.makeini("[pytest]\ndemo_scenario = small\n")
    pytester.makepyfile(test_inner=inner)
    passed = 4 if len(damages) == 3 else 2
    first_dir, second_dir, damaged_dir = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    try:
        # the keys a CI cache is keyed by, without running a test or touching a database
        keys_run = run_inprocess(pytester, server, f"--demo-snapshot-keys={tmp_path / 'keys.txt'}")
        assert keys_run.ret == 0
        keys = dict(line.split() for line in (tmp_path / "keys.txt").read_text().splitlines())
        assert sorted(keys.values()) == ["small"] * len(damages)

        xdist = ("-n", "2") if server.kind == "sqlite" else ()  # a subprocess is seconds on a server
        built = (run if xdist else run_inprocess)(pytester, server, f"--demo-cache-dir={first_dir}", *xdist)
        built.assert_outcomes(passed=passed)
        summary = read_summary(built)
        fingerprints = summary.fingerprints()
        assert len(summary.built()) == len(damages)
        assert sorted(p.stem for p in first_dir.glob("*.json")) == sorted(keys)  # the keys printed
        for key in keys:
            sidecar = read_sidecar(first_dir / f"{key}.json")
            assert sidecar is not None and sidecar.backend == (
                server.backend.identity if server.backend else "sqlite"
            )
            assert sidecar.portable if server.is_server else sidecar.files, "no file record"

        # another machine: the cache at a new path, no snapshot of it on the server
        shutil.copytree(first_dir, second_dir)
        shutil.copytree(first_dir, damaged_dir)
        drop_cache(server, first_dir)
        restored = run_inprocess(pytester, server, f"--demo-cache-dir={second_dir}")
        restored.assert_outcomes(passed=passed)
        summary = read_summary(restored)
        assert summary.built() == [] and summary.fingerprints() == fingerprints
        expected = "restored" if server.is_server else "cloned"
        assert {source for _, source in summary.sources()} == {expected}

        # a truncated, a corrupted and a half-copied snapshot: each rebuilt and named, none served
        for key, how in zip(sorted(keys), damages, strict=True):
            _damage(_snapshot_file(damaged_dir, key), how)
        rebuilt = run_inprocess(pytester, server, f"--demo-cache-dir={damaged_dir}")
        rebuilt.assert_outcomes(passed=passed)
        summary = read_summary(rebuilt)
        assert len(summary.built()) == len(damages) and summary.fingerprints() == fingerprints
        reasons = [line for line in rebuilt.outlines if "the kept snapshot was damaged" in line]
        assert sorted(next(h for h in damages if WORDS[h] in r) for r in reasons) == sorted(damages)

        # housekeeping: list what the directory keeps (with the server's databases), prune it all
        url = ["--db-url", server.url] if server.is_server else []
        listed = demoseed("snapshots", "list", "--cache-dir", str(damaged_dir), *url)
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == len(damages), listed.stdout
        if server.is_server:
            assert all(" on demoseed_s_" in line for line in listed.stdout.splitlines())
        pruned = demoseed("snapshots", "prune", "--cache-dir", str(damaged_dir), "--all", *url)
        removed = f"removed {len(damages)} snapshot{'s' if len(damages) > 1 else ''}"
        assert pruned.returncode == 0 and removed in pruned.stdout, pruned.stderr
        assert not list(damaged_dir.glob("*.json")) and not list(damaged_dir.glob("*.portable"))
        if server.backend is not None:
            scope = server.backend.scope(damaged_dir)  # type: ignore[attr-defined]
            assert not [n for n in server.names() if n.startswith(f"demoseed_s_{scope}_")]
        key_line = demoseed("snapshots", "key", "--scenario", "small", *url)
        assert key_line.stdout.split()[0] in keys, (key_line.stdout, keys)
    finally:
        for directory in (first_dir, second_dir, damaged_dir):
            drop_cache(server, directory)


@pytest.mark.parametrize("db_server", ["postgresql"], indirect=True)  # one server shows it
def test_backends_keep_their_snapshots_side_by_side(
    pytester: pytest.Pytester,
    db_server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A SQLite run and a server run with one cache directory: neither drops the other's."""
    pytester.makeini("[pytest]\ndemo_scenario = small\n")
    pytester.makepyfile(test_inner="def test_one(demo_dataset):\n    assert demo_dataset.counts\n")
    cache = tmp_path / "cache"
    try:
        for _ in range(2):
            run_inprocess(pytester, db_server, f"--demo-cache-dir={cache}").assert_outcomes(passed=1)
            sqlite = pytester.runpytest_inprocess("-p", "no:randomly", f"--demo-cache-dir={cache}")
            sqlite.assert_outcomes(passed=1)
        again = run_inprocess(pytester, db_server, f"--demo-cache-dir={cache}")
        assert read_summary(again).built() == []  # the second round and this one only cloned
        backends = sorted(s.backend for p in cache.glob("*.json") if (s := read_sidecar(p)) is not None)
        assert backends == sorted(["sqlite", db_server.backend.identity])  # type: ignore[union-attr]
    finally:
        drop_cache(db_server, cache)


def test_cache_dir_alone_keeps_snapshots(
    pytester: pytest.Pytester, tmp_path: Path, demoseed: Callable[..., Ran]
) -> None:
    """``--demo-cache-dir`` without ``--demo-reuse`` keeps and reuses snapshots (it implies it),
    as ``--help`` says; bad ages for prune are one line, exit 2."""
    pytester.makepyfile(test_inner="def test_one(demo_dataset):\n    assert demo_dataset.counts\n")
    for expected in (1, 0):
        result = pytester.runpytest_inprocess("-p", "no:randomly", f"--demo-cache-dir={tmp_path}")
        result.assert_outcomes(passed=1)
        assert len(read_summary(result).built()) == expected
    assert "implies --demo-reuse" in " ".join(
        " ".join(pytester.runpytest_inprocess("--help").outlines).split()
    )
    # the command's key follows --demo-schema as pytest's does (the schema's source is in the key)
    keys = tmp_path / "keys.txt"
    for schema in ("create_all", "none"):
        pytester.runpytest_inprocess(f"--demo-schema={schema}", f"--demo-snapshot-keys={keys}")
        printed = demoseed("snapshots", "key", "--scenario", "baseline", "--schema", schema).stdout
        assert printed == keys.read_text(), schema
    assert demoseed("snapshots", "key", "--scenario", "baseline").stdout != printed
    bad = demoseed("snapshots", "prune", "--cache-dir", str(tmp_path), "--older-than", "soon")
    assert (
        bad.returncode == 2
        and bad.stderr.startswith("demoseed: error: ")
        and len(bad.stderr.splitlines()) == 1
    )
    assert SERVERS  # the module's server list is the one the fixtures use
