"""Portable snapshot files on the servers: a database dumped table by table and loaded into an
empty one holds the same rows (same fingerprint) and the same schema objects; a damaged file is
named, never loaded. The zoo (``tests/zoo_app.py``) covers the column types a dump must carry:
UUIDs, bytes, JSON, intervals, times with zones, arrays, NULLs and quotes in text."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import zoo_app
from servers import Server, db_server  # noqa: F401  (the fixture)

from pytest_demoseed import database_fingerprint, seed
from pytest_demoseed.election.models import Base as ElectionBase
from pytest_demoseed.storage import portable
from pytest_demoseed.storage.engines import make_engine
from pytest_demoseed.storage.integrity import FileRecord, describe_file, file_problem
from pytest_demoseed.storage.portable import dump_tables, load_tables


def _schema(engine: sa.Engine, metadata: sa.MetaData) -> dict[str, tuple[object, ...]]:
    inspector = sa.inspect(engine)
    found = {}
    for table in metadata.sorted_tables:
        args = (table.name, table.schema)
        found[table.key] = (
            sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(*args)),
            sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(*args)
            ),
        )
    return found


def test_a_dumped_database_loads_into_an_empty_one_unchanged(
    db_server: Server,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The zoo loads with its indexes and keys kept (a small load); ``baseline`` as a bulk load
    does (indexes and foreign keys set aside and made again): both end with the same schema."""
    scenarios = [(zoo_app.ZOO, zoo_app.Base.metadata), ("baseline", None)]
    if db_server.kind == "postgresql":
        scenarios.append((zoo_app.ZOO_SCHEMA, zoo_app.SCHEMA_METADATA))
    for number, (scenario, metadata) in enumerate(scenarios):
        source_url = db_server.url.replace(db_server.name, f"{db_server.name}_s{number}")
        target_url = db_server.url.replace(db_server.name, f"{db_server.name}_t{number}")
        db_server.create(f"{db_server.name}_s{number}", None)
        db_server.create(f"{db_server.name}_t{number}", None)
        report = seed(source_url, scenario, seed=5, create_schema=True)
        metadata = metadata or ElectionBase.metadata
        monkeypatch.setattr(portable, "SET_ASIDE_BYTES", 0 if scenario == "baseline" else 1 << 40)
        source, target = make_engine(source_url), make_engine(target_url)
        try:
            records = dump_tables(source, metadata.sorted_tables, tmp_path / f"dump{number}")
            assert [r.rows for r in records] == [report.counts[t.key] for t in metadata.sorted_tables]
            metadata.create_all(target)
            load_tables(target, metadata.sorted_tables, tmp_path / f"dump{number}", records)
            assert database_fingerprint(target, scenario) == report.fingerprint
            assert _schema(target, metadata) == _schema(source, metadata)
            if scenario == "baseline":  # key counters are past the loaded keys, as after a build
                parties = metadata.tables["parties"]
                row = {"election_id": 1, "name": "new", "number": 99, "color": "#000000"}
                with target.begin() as conn:
                    added = conn.execute(sa.insert(parties).values(row)).inserted_primary_key
                assert added[0] == report.counts["parties"] + 1
        finally:
            source.dispose()
            target.dispose()


def test_a_damaged_file_is_named_and_an_intact_one_passes(tmp_path: Path) -> None:
    path = tmp_path / "000_things.copy"
    path.write_bytes(bytes(range(256)) * 4096)
    record = describe_file(path)
    assert file_problem(tmp_path, record) is None
    assert FileRecord.from_dict(record.as_dict()) == record
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    assert file_problem(tmp_path, record) == "000_things.copy is corrupted (its digest differs)"
    path.write_bytes(bytes(data[:1000]))
    assert file_problem(tmp_path, record) == "000_things.copy is truncated (1,000 of 1,048,576 bytes)"
    path.unlink()
    assert file_problem(tmp_path, record) == "000_things.copy is missing (half copied)"
