"""The snapshot key: everything that shapes a built database, hashed.

A snapshot is reused only while its key matches: the resolved spec (scenario, settings, seed),
the schema's DDL on this dialect, the source of every module a phase is defined in (so editing
a helper or factory next to a phase counts, not only the phase function), and the versions of
the plugin, Faker, factory_boy and SQLAlchemy, and the fingerprint's definition (a snapshot
carries its fingerprint). Editing a phase or a model makes a new key.

A schema made otherwise than by ``create_all`` adds its own part (``schema``): for Alembic, the
target revision(s) and the digest of the script directory's files
(:attr:`~pytest_demoseed.storage.migrations.Migrations.key`), so adding or editing a migration
makes a new key too; ``none`` for a schema the database already had.
"""

from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import PackageNotFoundError, version

import sqlalchemy as sa
from sqlalchemy.dialects import registry as dialect_registry

from pytest_demoseed.build.fingerprint import DEFINITION
from pytest_demoseed.scenario.spec import ScenarioSpec
from pytest_demoseed.storage.schema import schema_ddl

__all__ = ["schema_source", "snapshot_key", "versions"]


#: The DB-API driver whose version is part of a server snapshot's key (it writes and reads the
#: portable files, and its conversions shape what is stored).
DRIVERS = {"postgresql": "psycopg", "mysql": "PyMySQL", "mariadb": "PyMySQL"}


def versions(dialect_name: str = "") -> dict[str, str]:
    """The versions a snapshot's content depends on: the libraries that make the rows, and the
    database driver for ``dialect_name`` (SQLite's is the standard library's)."""
    found = {}
    driver = DRIVERS.get(dialect_name)
    for package in ("pytest-demoseed", "Faker", "factory_boy", "SQLAlchemy", *([driver] if driver else [])):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found


def _source(obj: object) -> str:
    try:
        return inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return getattr(obj, "__qualname__", repr(type(obj)))


def _module_source(obj: object) -> str:
    module = inspect.getmodule(obj)
    try:
        return inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        return ""


def schema_source(schema: str, migrations_key: str = "") -> str:
    """What a key records of how the snapshot's schema is made (``--demo-schema``): nothing for
    ``create_all`` (its DDL is hashed anyway), ``none``, or the migrations' own key."""
    if schema == "alembic":
        return migrations_key
    return "none" if schema == "none" else ""


def snapshot_key(
    spec: ScenarioSpec, metadata: sa.MetaData, dialect_name: str, identity: str = "", schema: str = ""
) -> str:
    dialect_cls = dialect_registry.load(dialect_name)
    ddl = schema_ddl(metadata, dialect_cls())
    digest = hashlib.blake2b(digest_size=12)
    parts = [spec.key, ddl, repr(sorted(versions(dialect_name).items())), identity, DEFINITION]
    if schema:  # absent for create_all: keys made before migrations existed stay valid
        parts.append(schema)
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    modules: dict[str, str] = {}
    for item in spec.scenario.phases:
        digest.update(_source(item.generate).encode())
        if item.load_existing is not None:
            digest.update(_source(item.load_existing).encode())
        modules.setdefault(getattr(item.generate, "__module__", ""), _module_source(item.generate))
    for name in sorted(modules):
        digest.update(modules[name].encode())
    return f"{spec.scenario_name.replace('-', '_')}_{digest.hexdigest()}"
