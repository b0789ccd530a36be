"""Schemas from Alembic migrations: find the environment, key it, run it, check and count what it made.

The snapshot flow (:mod:`pytest_demoseed.storage.provider`) and ``seed(migrate=...)`` use it in
place of ``metadata.create_all``. Alembic is an optional extra, imported only here and only when
migrations are asked for; its absence is a one-line MigrationError naming the extra.

Migrations run through Alembic's Python API (``command.upgrade``) with the connection handed to the
project's ``env.py`` in ``config.attributes["connection"]``: inside a transaction that is already
open (the build's, on PostgreSQL and SQLite) Alembic opens none of its own, so the migrations
commit or roll back with the build.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pytest_demoseed.build.fingerprint import Fingerprint, fingerprint_database
from pytest_demoseed.errors import MigrationError, SchemaMismatch, first_line

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "INSTALL_HINT",
    "MigratedRows",
    "Migrations",
    "check_migrated_schema",
    "combined_fingerprint",
    "current_heads",
    "load_migrations",
    "migrated_rows",
    "migration_prepare",
    "run_migrations",
]

INSTALL_HINT = "pip install 'pytest-demoseed[alembic]'"
#: Alembic's own bookkeeping table: not data, and its content is the target, already in the key.
VERSION_TABLE = "alembic_version"
#: Backends whose DDL commits on its own: migrations run before the build's transaction there.
NON_TRANSACTIONAL_DDL = frozenset({"mysql", "mariadb"})


def _alembic() -> Any:
    """Alembic's ``command``/``config``/``script`` modules, or a one-line MigrationError."""
    try:
        from alembic import command, config, script
        from alembic.script import revision
        from alembic.util import exc
    except ImportError:
        raise MigrationError(f"Alembic is not installed: {INSTALL_HINT}") from None
    return command, config, script, (exc.CommandError, revision.RevisionError)


@dataclass(frozen=True)
class Migrations:
    """One Alembic environment and the revision(s) to migrate to, resolved and digested.

    ``key`` is what a snapshot key hashes: the target's revision ids and a digest of the script
    directory's files (sorted relative paths and contents; no mtimes), so adding or editing a
    migration makes a new key and nothing else does.
    """

    ini_path: Path
    target: str
    revisions: tuple[str, ...]
    digest: str
    #: revision id -> its file, to name the revision a failure came from
    files: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"alembic:{','.join(self.revisions)}:{self.digest}"

    @property
    def shown(self) -> str:
        """``head (3f2a9c1d)``: the target as given and what it resolved to, for messages."""
        ids = ",".join(r[:12] for r in self.revisions)
        return self.target if self.target == ids else f"{self.target} ({ids})"

    def config(self, connection: sa.Connection | None = None) -> Config:
        _command, config, _script, _errors = _alembic()
        found: Config = config.Config(str(self.ini_path))
        if connection is not None:
            found.attributes["connection"] = connection
        return found


def _ini_path(path: str | os.PathLike[str]) -> Path:
    given = Path(path).expanduser()
    found = given / "alembic.ini" if given.is_dir() else given
    if not found.is_file():
        where = f"{given} holds no alembic.ini" if given.is_dir() else f"no alembic.ini at {given}"
        raise MigrationError(f"{where} (give an alembic.ini or the directory that holds it)")
    return found.resolve()


def _digest(directories: Iterable[Path], base: Path) -> str:
    """blake2b over every file under ``directories`` (caches excepted): sorted relative paths,
    each with its bytes."""
    files: dict[str, Path] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in directory.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                files.setdefault(Path(os.path.relpath(path, base)).as_posix(), path)
    digest = hashlib.blake2b(digest_size=12)
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_migrations(path: str | os.PathLike[str], target: str = "head") -> Migrations:
    """The environment at ``path`` (an ``alembic.ini`` or its directory) resolved for ``target``.

    MigrationError (one line) for: Alembic not installed, no alembic.ini, a script directory that
    cannot be read, several heads and no target naming which, an unknown target revision.
    """
    _command, config, script, errors = _alembic()
    ini = _ini_path(path)
    target = (target or "head").strip()
    try:
        scripts = script.ScriptDirectory.from_config(config.Config(str(ini)))
        heads = scripts.get_heads()
    except errors as exc:
        raise MigrationError(f"{ini}: {first_line(exc)}") from None
    if target == "head" and len(heads) > 1:
        raise MigrationError(
            f"{ini}: the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): give a target "
            "(--demo-alembic-target heads, or one revision)"
        )
    try:
        found = scripts.get_revisions(target)
    except errors as exc:
        raise MigrationError(f"{ini}: unknown target revision {target!r} ({first_line(exc)})") from None
    revisions = tuple(sorted(r.revision for r in found if r is not None))
    if not revisions and target != "base":
        raise MigrationError(f"{ini}: unknown target revision {target!r} (no such revision)")
    locations = [Path(scripts.dir), *getattr(scripts, "_version_locations", [])]
    files = {r.revision: str(r.path) for r in scripts.walk_revisions() if r is not None}
    return Migrations(ini, target, revisions, _digest(locations, ini.parent), files)


def _failed_revision(exc: BaseException, migrations: Migrations) -> str | None:
    """The revision whose file is deepest in ``exc``'s traceback: the migration that failed."""
    by_file = {os.path.realpath(path): rev for rev, path in migrations.files.items()}
    found = None
    tb = exc.__traceback__
    while tb is not None:
        rev = by_file.get(os.path.realpath(tb.tb_frame.f_code.co_filename))
        found = rev or found
        tb = tb.tb_next
    return found


def current_heads(conn: sa.Connection) -> tuple[str, ...]:
    """The revisions the database is at (empty: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def run_migrations(conn: sa.Connection, migrations: Migrations) -> None:
    """``alembic upgrade <target>`` on ``conn`` (handed to ``env.py``); one-line MigrationError
    naming the revision that failed and the first line of the database's error."""
    command, _config, _script, errors = _alembic()
    saved_path = list(sys.path)
    try:
        command.upgrade(migrations.config(conn), migrations.target)
    except errors as exc:
        raise MigrationError(f"{migrations.ini_path}: {first_line(exc)}") from None
    except Exception as exc:
        revision = _failed_revision(exc, migrations)
        where = f"migration {revision}" if revision else f"the migrations of {migrations.ini_path}"
        raise MigrationError(f"{where} failed: {first_line(exc)}") from exc
    finally:
        sys.path[:] = saved_path  # ``prepend_sys_path`` of the ini: the run's path stays as it was


def check_migrated_schema(
    conn: sa.Connection, migrations: Migrations, writers: Sequence[tuple[str, sa.MetaData]]
) -> None:
    """Every table and column each of ``writers`` (``(who, metadata)``: the scenario, the
    ``demo_metadata``) declares exists in the migrated schema, or a SchemaMismatch naming both."""
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names())
    for who, metadata in writers:
        for table in metadata.sorted_tables:
            if table.name not in existing:
                raise SchemaMismatch(
                    f"the schema migrated to {migrations.shown} has no table {table.name!r}, which {who} "
                    "declares (add a migration for it, or leave it out of the models)"
                )
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            absent = [c.name for c in table.columns if c.name not in columns]
            if absent:
                raise SchemaMismatch(
                    f"table {table.name!r} migrated to {migrations.shown} lacks column(s) "
                    f"{', '.join(absent)}, which {who} declares"
                )


@dataclass(frozen=True)
class MigratedRows:
    """The rows the migrations themselves left (data migrations), counted apart from the
    scenario's: per table, and one fingerprint over them."""

    counts: dict[str, int]
    fingerprint: str
    revisions: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "fingerprint": self.fingerprint, "revisions": list(self.revisions)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MigratedRows:
        return cls(dict(data["counts"]), str(data["fingerprint"]), tuple(data.get("revisions", ())))


def migrated_rows(
    conn: sa.Connection,
    known: Sequence[sa.MetaData] = (),
    revisions: tuple[str, ...] = (),
    exclude: Iterable[str] = (),
) -> MigratedRows:
    """Count and fingerprint the rows every table holds now (right after the migrations).

    A table declared in ``known`` (the scenario's or the ``demo_metadata`` models) is read with
    its declared columns and types, so its rows print as the builder's do on every backend; any
    other table is reflected.
    """
    skip = {VERSION_TABLE, *exclude}
    names = [n for n in sa.inspect(conn).get_table_names() if n not in skip]
    counts: dict[str, int] = {}
    for name in names:
        rows = conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
        if rows:
            counts[name] = int(rows)
    if not counts:
        return MigratedRows({}, "", revisions)
    declared: dict[str, sa.Table] = {}
    for metadata in known:
        for table in metadata.sorted_tables:
            declared.setdefault(table.name, table)
    chosen = sa.MetaData()
    reflect = [name for name in counts if name not in declared]
    if reflect:
        chosen.reflect(conn, only=reflect)
    for name in counts:
        if name in declared:
            declared[name].to_metadata(chosen)
    found: Fingerprint = fingerprint_database(conn, _only(chosen, counts))
    return MigratedRows(dict(sorted(counts.items())), found.hexdigest(), revisions)


def _only(metadata: sa.MetaData, names: Iterable[str]) -> sa.MetaData:
    wanted = set(names)
    for table in list(metadata.sorted_tables):
        if table.name not in wanted:
            metadata.remove(table)
    return metadata


def combined_fingerprint(scenario_fingerprint: str, migrated: MigratedRows | None) -> str:
    """The dataset's fingerprint with the migrations' rows in it; unchanged when they left none
    (so the same scenario on a migrated schema and on ``create_all`` fingerprints alike)."""
    if migrated is None or not migrated.fingerprint:
        return scenario_fingerprint
    text = f"scenario:{scenario_fingerprint}\nmigrations:{migrated.fingerprint}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def migration_prepare(
    migrations: Migrations,
    writers: Sequence[tuple[str, sa.MetaData]],
    *,
    run: bool,
    found: list[MigratedRows],
) -> Callable[[sa.Connection], None]:
    """A builder ``prepare=`` hook: migrate (when ``run``), check the schema, count the
    migrations' rows into ``found``; all inside the build's transaction."""

    def prepare(conn: sa.Connection) -> None:
        if run:
            run_migrations(conn, migrations)
        check_migrated_schema(conn, migrations, writers)
        found.append(migrated_rows(conn, [m for _, m in writers], migrations.revisions))

    return prepare
