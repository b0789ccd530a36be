"""Kept snapshot files are checked before use: a file's size and content digest, from its sidecar.

A cache restored from another machine, or an interrupted copy, can leave a file that is
truncated, corrupted or half there. Such a file is never served: the run rebuilds and says why
in one summary line. The digest is streamed (1 MiB reads, blake2b), so checking costs about what
reading the file from disk costs.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["FileRecord", "describe_file", "file_problem"]

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileRecord:
    """One kept file: its name (relative to its directory), size, digest and, for a table's
    portable file, the table and its row count."""

    name: str
    size: int
    digest: str
    table: str = ""
    rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileRecord:
        return cls(**data)


def _digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(path: Path, name: str | None = None) -> FileRecord:
    """The record of a file as it is now."""
    return FileRecord(name=name or path.name, size=path.stat().st_size, digest=_digest(path))


def file_problem(directory: Path, record: FileRecord) -> str | None:
    """Why the file ``record`` describes cannot be used (one phrase), or None if it is intact."""
    path = directory / record.name
    try:
        size = path.stat().st_size
    except OSError:
        return f"{record.name} is missing (half copied)"
    if size < record.size:
        return f"{record.name} is truncated ({size:,} of {record.size:,} bytes)"
    if size != record.size:
        return f"{record.name} has {size:,} bytes, not {record.size:,}"
    if _digest(path) != record.digest:
        return f"{record.name} is corrupted (its digest differs)"
    return None
