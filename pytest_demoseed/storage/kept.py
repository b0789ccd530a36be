"""A kept snapshot's sidecar: what it holds, where, and whether what is on disk is still it.

``<key>.json`` beside the snapshot is written last, when everything it names is complete; a
snapshot without one is never used. Besides the dataset it records the backend that made it (so
runs of one project on SQLite and on a server keep their snapshots apart), the size and digest
of every file the snapshot keeps in the cache directory (the SQLite file; the portable files of
a server snapshot, :mod:`pytest_demoseed.storage.portable`), checked before a file is used
(:mod:`pytest_demoseed.storage.integrity`).
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_demoseed.build.dataset import Dataset
from pytest_demoseed.storage.integrity import FileRecord, file_problem

__all__ = ["Sidecar", "portable_dir", "read_sidecar", "sidecar_path", "touch", "write_sidecar"]


def sidecar_path(snapshot_dir: Path, key: str) -> Path:
    return snapshot_dir / f"{key}.json"


def portable_dir(snapshot_dir: Path, key: str) -> Path:
    """Where a server snapshot's portable files are kept: ``<key>.portable/``."""
    return snapshot_dir / f"{key}.portable"


@dataclass(frozen=True)
class Sidecar:
    """What ``<key>.json`` says about a kept snapshot."""

    key: str
    dataset: Dataset
    run: str
    #: the backend identity that made it (``sqlite``, ``postgresql``, ``mysql``)
    backend: str
    #: files of the snapshot itself in the cache directory (SQLite: its file)
    files: tuple[FileRecord, ...] = ()
    #: portable files of a server snapshot (in ``<key>.portable/``) and their format
    portable_format: str = ""
    portable: tuple[FileRecord, ...] = field(default_factory=tuple)
    #: the rows the schema's migrations left (``MigratedRows.as_dict()``), if migrated
    migrated: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "run": self.run,
            "backend": self.backend,
            "dataset": self.dataset.as_dict(),
            "files": [record.as_dict() for record in self.files],
            "portable_format": self.portable_format,
            "portable": [record.as_dict() for record in self.portable],
            **({"migrated": self.migrated} if self.migrated is not None else {}),
        }

    def files_problem(self, snapshot_dir: Path) -> str | None:
        """Why the snapshot's own files cannot be used, or None (intact, or none kept)."""
        return _first_problem(snapshot_dir, self.files)

    def portable_problem(self, snapshot_dir: Path) -> str | None:
        """Why the portable files cannot be loaded, or None (all there and intact)."""
        if not self.portable:
            return "no portable files"
        return _first_problem(portable_dir(snapshot_dir, self.key), self.portable)


def _first_problem(directory: Path, records: tuple[FileRecord, ...]) -> str | None:
    for record in records:
        problem = file_problem(directory, record)
        if problem is not None:
            return problem
    return None


def read_sidecar(path: Path) -> Sidecar | None:
    """The sidecar at ``path``; None if there is none or it cannot be read (never trusted)."""
    try:
        data = json.loads(path.read_text())
        return Sidecar(
            key=str(data["key"]),
            dataset=Dataset.from_dict(data["dataset"]),
            run=str(data["run"]),
            backend=str(data.get("backend", "")),
            files=tuple(FileRecord.from_dict(item) for item in data.get("files", ())),
            portable_format=str(data.get("portable_format", "")),
            portable=tuple(FileRecord.from_dict(item) for item in data.get("portable", ())),
            migrated=data.get("migrated"),
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_sidecar(path: Path, sidecar: Sidecar) -> None:
    """Write atomically: a reader sees the old sidecar, or none, or this one whole."""
    tmp = path.with_suffix(f".json.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(sidecar.as_dict(), indent=1))
    os.replace(tmp, path)


def touch(path: Path) -> None:
    """Mark the sidecar's snapshot as used now (``demoseed snapshots prune --older-than``)."""
    with suppress(OSError):  # a sidecar removed meanwhile: nothing to mark
        os.utime(path)
