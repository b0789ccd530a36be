"""What a cache directory keeps, and removing it: ``demoseed snapshots list`` / ``prune``.

A cache directory (``--demo-cache-dir``, or ``.pytest_cache/d/demoseed`` with ``--demo-reuse``)
holds per snapshot key a sidecar ``<key>.json`` and, by backend, the SQLite file
``<key>.sqlite`` or the portable files ``<key>.portable/``; the server holds the snapshot itself
(a PostgreSQL template database, a MariaDB database) named for the cache directory and host.
A snapshot's age is the time since a run last used it (runs touch the sidecar). Removing one
removes all of it: the server database (a template is unmarked first, as a plain ``DROP
DATABASE`` refuses it), its files, then its sidecar.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from pytest_demoseed.storage.backends import backend_for
from pytest_demoseed.storage.backends.server import Marker, ServerBackend

__all__ = ["KeptSnapshot", "list_snapshots", "prune_snapshots", "remove_snapshot"]

#: What a kept snapshot's files are called, beside its sidecar.
SIDECAR, SQLITE_FILE, PORTABLE_DIR = ".json", ".sqlite", ".portable"


@dataclass(frozen=True)
class KeptSnapshot:
    """One snapshot kept for later runs: in the cache directory, on a server, or both."""

    key: str
    scenario: str
    backend: str
    #: bytes of its files in the cache directory (the SQLite file, the portable files)
    size: int
    #: seconds since a run last used (or built) it; None for a server snapshot with no sidecar
    age: float | None
    #: the server database holding it, if any
    database: str = ""
    #: why it can never be used ("" if it can): no sidecar, or no snapshot left behind it
    orphan: str = ""


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _sidecar_data(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _server_snapshots(server: ServerBackend, cache_dir: Path) -> dict[str, str]:
    """Snapshot key -> database name, for this cache directory's snapshots on the server."""
    prefix = f"demoseed_s_{server.scope(cache_dir)}_"
    found = {}
    with server.admin() as conn:
        for name, comment in server.databases(conn).items():
            marker = Marker.parse(comment)
            if name.startswith(prefix) and marker is not None and marker.role == "snapshot":
                found[marker.key] = name
    return found


def _server(url: str | None) -> ServerBackend | None:
    if url is None:
        return None
    backend = backend_for(url, reuse=True)
    return backend if isinstance(backend, ServerBackend) else None


def list_snapshots(cache_dir: Path, url: str | None = None) -> list[KeptSnapshot]:
    """Every snapshot ``cache_dir`` keeps, and with a server ``url`` the server's snapshots made
    for it from this host, oldest use first."""
    server = _server(url)
    on_server = _server_snapshots(server, cache_dir) if server is not None else {}
    now = time.time()
    found: dict[str, KeptSnapshot] = {}
    for sidecar in sorted(cache_dir.glob(f"*{SIDECAR}")):
        key = sidecar.stem
        data = _sidecar_data(sidecar)
        dataset = data.get("dataset") or {}
        sqlite_file = cache_dir / f"{key}{SQLITE_FILE}"
        backend = str(data.get("backend") or ("sqlite" if sqlite_file.exists() else "?"))
        size = _size(sqlite_file) + _size(cache_dir / f"{key}{PORTABLE_DIR}")
        database = on_server.get(key, "")
        ours = server is not None and server.dialect_name == _family(backend)
        orphan = ""
        if backend == "sqlite" and not sqlite_file.exists():
            orphan = "its SQLite file is gone"
        elif ours and not database and not data.get("portable"):
            orphan = "no snapshot on the server and no portable files"
        found[key] = KeptSnapshot(
            key=key,
            scenario=str(dataset.get("scenario", "?")),
            backend=backend,
            size=size,
            age=round(now - sidecar.stat().st_mtime, 1),
            database=database,
            orphan=orphan,
        )
    for key, database in on_server.items():
        if key not in found:
            assert server is not None
            found[key] = KeptSnapshot(
                key, key.rsplit("_", 1)[0], server.dialect_name, 0, None, database, "no sidecar"
            )
    for path in [*cache_dir.glob(f"*{SQLITE_FILE}"), *cache_dir.glob(f"*{PORTABLE_DIR}")]:
        key = path.name[: -len(path.suffix)]
        if key not in found and ".building-" not in path.name:
            found[key] = KeptSnapshot(key, key.rsplit("_", 1)[0], "?", _size(path), None, "", "no sidecar")
    return sorted(found.values(), key=lambda s: (-(s.age or 0), s.key))


def _family(backend: str) -> str:
    return "mysql" if backend in ("mysql", "mariadb") else backend


def remove_snapshot(cache_dir: Path, snapshot: KeptSnapshot, url: str | None = None) -> None:
    """Remove one snapshot whole: the server's database first, then its files and sidecar."""
    server = _server(url)
    if snapshot.database and server is not None:
        with server.admin() as conn:
            server.drop_named(conn, snapshot.database)
    for suffix in (SQLITE_FILE, PORTABLE_DIR, ".lock", SIDECAR):
        path = cache_dir / f"{snapshot.key}{suffix}"
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def prune_snapshots(
    cache_dir: Path, url: str | None = None, *, older_than: float | None = None, everything: bool = False
) -> list[KeptSnapshot]:
    """Remove what can never be used again (orphans), what no run used for ``older_than``
    seconds, or with ``everything`` all of it; return what was removed."""
    removed = []
    for snapshot in list_snapshots(cache_dir, url):
        old = older_than is not None and (snapshot.age is None or snapshot.age >= older_than)
        if not (everything or snapshot.orphan or old):
            continue
        try:  # a run building or cloning it holds its lock: leave it to a later prune
            with FileLock(str(cache_dir / f"{snapshot.key}.lock"), timeout=0):
                remove_snapshot(cache_dir, snapshot, url)
        except Timeout:
            continue
        removed.append(snapshot)
    return removed
