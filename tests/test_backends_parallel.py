# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""Build once per run, clone per worker, on every backend: counts of builds, reuse, rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import Server, built_lines, cloned_lines, drop_cache, fingerprints, run, server  # noqa: F401

from pytest_demoseed.build import build
from pytest_demoseed.engines import make_engine
from pytest_demoseed.spec import resolve_spec

TWO_SPECS = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

@pytest.mark.parametrize("i", range(4))
def test_default(demo_dataset, demo_session, i):
    assert demo_session.scalar(sa.select(sa.func.count(Party.id))) == demo_dataset.counts["parties"]

@pytest.mark.demo_scenario("small")
@pytest.mark.parametrize("i", range(4))
def test_small(demo_dataset, i):
    assert demo_dataset.scenario == "small"
"""


def reference_fingerprint(tmp_path: Path, scenario: str) -> str:
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    spec = resolve_spec(scenario, 42, {})
    spec.scenario.metadata.create_all(engine)
    try:
        return build(engine, spec).fingerprint
    finally:
        engine.dispose()


def test_same_spec_same_fingerprint_and_nothing_left(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    before = set(server.databases()) if server.is_server else set()
    pytester.makepyfile(test_fp="def test_it(demo_dataset):\n    assert demo_dataset.total_rows\n")
    result = run(pytester, server, "-n", "2", "--demo-scenario", "small")
    result.assert_outcomes(passed=1)
    assert set(fingerprints(result.stdout.str())) == {reference_fingerprint(tmp_path, "small")}
    if server.is_server:
        assert set(server.databases()) == before, "a normal run leaves nothing on the server"


def test_n3_builds_each_spec_once_and_reuse_builds_nothing(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    pytester.makepyfile(test_two=TWO_SPECS)
    try:
        first = run(pytester, server, "-n", "3", "--demo-reuse", "--demo-cache-dir", str(cache))
        first.assert_outcomes(passed=8)
        out = first.stdout.str()
        assert len(built_lines(out)) == 2, out  # two specs, each generated exactly once

        second = run(pytester, server, "-n", "3", "--demo-reuse", "--demo-cache-dir", str(cache))
        second.assert_outcomes(passed=8)
        assert built_lines(second.stdout.str()) == [], second.stdout.str()

        rebuilt = run(
            pytester, server, "-n", "3", "--demo-reuse", "--demo-rebuild", "--demo-cache-dir", str(cache)
        )
        rebuilt.assert_outcomes(passed=8)
        assert len(built_lines(rebuilt.stdout.str())) == 2, "--demo-rebuild builds once per run"
    finally:
        drop_cache(server, cache)


def test_rows_a_test_inserts_get_fresh_keys_after_a_clone(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(
        test_keys="""
        import pytest
        import sqlalchemy as sa
        from pytest_demoseed.election.models import Party

        @pytest.mark.parametrize("i", range(2))
        def test_insert(demo_session, demo_dataset, i):
            election_id = demo_session.scalar(sa.select(Party.election_id).limit(1))
            party = Party(name="New", election_id=election_id, number=99, color="#000000")
            demo_session.add(party)
            demo_session.commit()
            assert party.id == demo_dataset.counts["parties"] + 1
        """
    )
    result = run(pytester, server, "-n", "2", "--demo-scenario", "small")
    result.assert_outcomes(passed=2)
    assert len(cloned_lines(result.stdout.str())) + len(built_lines(result.stdout.str())) == 2


def test_keep_leaves_worker_databases_and_the_next_run_replaces_them(
    pytester: pytest.Pytester, server: Server
) -> None:
    if not server.is_server:
        pytest.skip("server-only: SQLite files live in pytest's base temp dir")
    pytester.makepyfile(test_k="def test_it(demo_dataset):\n    pass\n")
    run(pytester, server, "--demo-scenario", "small", "--demo-keep").assert_outcomes(passed=1)
    kept = server.databases()[server.name]
    assert kept is not None and kept.role == "kept"
    run(pytester, server, "--demo-scenario", "small").assert_outcomes(passed=1)
    assert server.name not in server.databases()
