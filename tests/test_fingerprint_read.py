"""Reading a fingerprint back leaves the caller's connection as it was (issue 11), on every backend."""

from __future__ import annotations

import sqlalchemy as sa
from servers import Server, server  # noqa: F401  (the fixture)

from pytest_demoseed import get_scenario, seed
from pytest_demoseed.build.fingerprint import fingerprint_database
from pytest_demoseed.storage.engines import make_engine


def test_fingerprint_database_leaves_a_tests_connection_usable(server: Server) -> None:  # noqa: F811
    if server.is_server:
        server.create(server.name, None)
    report = seed(server.url, "small", create_schema=True)
    engine = make_engine(server.url)
    try:
        with engine.connect() as conn:
            before = dict(conn.get_execution_options())
            outer = conn.begin()
            savepoint = conn.begin_nested()  # what demo_session's commit() releases
            found = fingerprint_database(conn, get_scenario("small").metadata).hexdigest()
            assert dict(conn.get_execution_options()) == before
            savepoint.rollback()  # failed on PostgreSQL when yield_per was set on the connection
            nested = conn.begin_nested()
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
            nested.rollback()
            outer.rollback()
    finally:
        engine.dispose()
    assert found == report.fingerprint
