"""The plugin costs nothing until a run uses demo data: its entry points import no heavy package.

SQLAlchemy, Faker, factory_boy, rich, filelock and click load only when a demo option is given
or a selected test asks for a demo fixture or the marker; bad input still ends the run before
any test. Runs are subprocesses, so the outer run's imports cannot hide a heavy import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

HEAVY = ("sqlalchemy", "faker", "factory", "rich", "filelock", "click")

#: Faker ships a pytest11 plugin of its own that imports faker: not ours to measure.
NOT_OURS = ("-p", "no:randomly", "-p", "no:faker")

PROBE = textwrap.dedent(
    f"""
    import sys

    def heavy():
        return sorted(m for m in {HEAVY!r} if m in sys.modules)
    """
)


def test_loading_the_entry_points_imports_no_heavy_package() -> None:
    code = (
        "import sys; import pytest_demoseed, pytest_demoseed.plugin, pytest_demoseed.election.fixtures; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_run_without_demo_data_stays_light_and_one_with_it_activates(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(probe=PROBE)
    pytester.makepyfile(
        test_plain="""
        from probe import heavy

        def test_plain():
            assert heavy() == []
        """,
        test_demo="""
        from probe import heavy

        def test_demo(demo_session, demo_dataset):
            assert "sqlalchemy" in heavy()
            assert demo_dataset.counts["electors"] == 50
        """,
    )
    # only the plain test selected: nothing heavy, and the header still names the defaults
    plain = pytester.runpytest_subprocess(*NOT_OURS, "-k", "plain")
    plain.assert_outcomes(passed=1, deselected=1)
    plain.stdout.fnmatch_lines(["demoseed: scenario=baseline seed=42 *"])
    # a selected test that uses a demo fixture activates the plugin (the marker-less default here)
    demo = pytester.runpytest_subprocess(*NOT_OURS, "--demo-scenario=small", "-k", "demo")
    demo.assert_outcomes(passed=1, deselected=1)


def test_bad_input_still_stops_the_run_before_any_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marked="""
        import pytest

        def test_plain():
            pass

        @pytest.mark.demo_scenario("no-such-scenario")
        def test_marked(demo_session):
            pass
        """
    )
    # a bad option: activation at configure time
    option = pytester.runpytest_subprocess(*NOT_OURS, "--demo-seed=x")
    assert option.ret == pytest.ExitCode.USAGE_ERROR
    option.stderr.fnmatch_lines(["ERROR: --demo-seed must be a non-negative integer, got 'x'"])
    # no option at all, a bad marker on a collected test: activation at collection
    marker = pytester.runpytest_subprocess(*NOT_OURS)
    assert marker.ret == pytest.ExitCode.USAGE_ERROR
    marker.stderr.fnmatch_lines(["ERROR: *test_marked.py::test_marked: unknown scenario 'no-such-scenario'*"])
    assert "passed" not in marker.stdout.str()
