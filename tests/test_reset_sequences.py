# ruff: noqa: F811  (the ``server`` fixture is imported from servers.py)
"""``demo_reset_sequences``: keys of rows a test inserts do not depend on test order.

A rollback does not put PostgreSQL sequences or MariaDB AUTO_INCREMENT counters back, so without
the option a test's new rows get keys that depend on what ran before it in the worker. SQLite
takes max(rowid) + 1, which the rollback already restores: it needs nothing, and the same run
passes there too.
"""

from __future__ import annotations

import pytest
from servers import Server, run, server  # noqa: F401

ORDERED = """
import pytest
import sqlalchemy as sa
from pytest_demoseed.election.models import Party

def insert(session, dataset, n=1):
    rows = [
        Party(name=f"X{i}", election_id=dataset.root_id, number=90 + i, color=f"#0000{i:02d}")
        for i in range(n)
    ]
    session.add_all(rows)
    session.commit()  # only releases a SAVEPOINT: the test's rollback removes the rows
    return [row.id for row in rows]

def fresh(dataset, n=1):
    # the keys SQLite gives: just past the scenario's own rows
    first = dataset.counts["parties"] + 1
    return list(range(first, first + n))

@pytest.mark.demo_reset_sequences(False)
def test_1_moves_the_counter_and_leaves_it(demo_session, demo_dataset):
    assert insert(demo_session, demo_dataset, 3) == fresh(demo_dataset, 3)

def test_2_ini_resets_before_the_test(demo_session, demo_dataset):
    assert insert(demo_session, demo_dataset) == fresh(demo_dataset)

@pytest.mark.demo_reset_sequences(False)
def test_3_the_reset_test_left_the_counter_as_it_found_it(demo_session, demo_dataset):
    assert insert(demo_session, demo_dataset) == fresh(demo_dataset)

@pytest.mark.demo_reset_sequences
def test_4_the_marker_resets_too(demo_connection, demo_dataset):
    demo_connection.execute(sa.text(
        "insert into parties (election_id, name, number, color) values (:e, 'Y', 80, '#000080')"
    ), {"e": demo_dataset.root_id})
    key = demo_connection.scalar(sa.text("select max(id) from parties"))
    assert [key] == fresh(demo_dataset)

@pytest.mark.demo_reset_sequences(False)
def test_5_and_after_it(demo_session, demo_dataset):
    assert insert(demo_session, demo_dataset) == fresh(demo_dataset)
"""


def test_reset_sequences_makes_inserted_keys_independent_of_test_order(
    pytester: pytest.Pytester, server: Server
) -> None:
    """With ini ``demo_reset_sequences = true``, a test starts with the counters the snapshot
    had (test 2, after test 1 moved them by 3) and leaves them so (test 3, which opted out);
    the marker does the same for one test (4 and 5); ``demo_reset_sequences(False)`` opts out."""
    pytester.makepyfile(test_ordered=ORDERED)
    result = run(pytester, server, "--demo-scenario", "small", "-o", "demo_reset_sequences=true", "-v")
    result.assert_outcomes(passed=5)
