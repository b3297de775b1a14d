"""Atomic file writes and tolerant JSON reads, shared by the index, the model cache and eval results.

A write goes to a temporary file in the same folder and is renamed over the target, so a crash
(or a full disk) leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; it replaces ``path`` only if the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: object) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_jsonl(path: Path, repair: bool = False) -> list[dict]:
    """The JSON objects of a JSON-lines file up to its first unreadable or unfinished line.

    A killed writer leaves a torn last line, and nothing after a damaged line is trusted. With
    ``repair`` the file is cut there, so appending resumes after the last good row. A missing
    file has no rows.
    """
    rows, good_bytes = [], 0
    try:
        with path.open("rb") as handle:
            for raw in handle:
                try:
                    row = json.loads(raw)
                except ValueError:
                    break
                if not raw.endswith(b"\n") or not isinstance(row, dict):
                    break
                rows.append(row)
                good_bytes += len(raw)
        size = path.stat().st_size
    except FileNotFoundError:
        return []
    if good_bytes != size:
        log.warning("%s is damaged after row %d; the rows after it are dropped", path, len(rows))
        if repair:
            with path.open("r+b") as handle:
                handle.truncate(good_bytes)
    return rows


def sha256_file(path: Path, progress: Callable[[str, int, int], None] | None = None, stage: str = "checking") -> str:
    """The file's SHA-256, read in 4 MB pieces; ``progress(stage, done, total)`` as it goes."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(stage, done, total)
    return digest.hexdigest()


def file_identity(path: Path) -> list[int]:
    """Size and modification time: a cheap stamp that a file was not replaced since it was checked."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]
