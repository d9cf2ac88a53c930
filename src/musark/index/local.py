"""The local, uncompressed copy of the published index: made from the .zst on first use, opened read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import zstandard

from musark.archive import Archive
from musark.console import progress
from musark.fsio import atomic_writer

_CHUNK = 4 << 20


class IndexMissingError(FileNotFoundError):
    """Neither the published index nor its compressed form is in the archive."""


def ensure_index(archive: Archive) -> Path:
    """Return the uncompressed index path, decompressing ``musark_index.sqlite3.zst`` when needed."""
    db, zst = archive.index_db, archive.index_zst
    # A newer .zst (a new release copied over the mirror) replaces the stale local copy.
    if db.exists() and (not zst.exists() or db.stat().st_mtime_ns >= zst.stat().st_mtime_ns):
        return db
    if not zst.exists():
        raise IndexMissingError(
            f"{archive.root}: no published index ({db} or {zst}); copy release/ from the archive"
        )
    with (
        zst.open("rb") as src,
        atomic_writer(db) as dst,
        progress(transfer=True) as bar,
        zstandard.ZstdDecompressor().stream_reader(src, read_size=_CHUNK) as reader,
    ):
        task = bar.add_task(f"decompressing {zst.name}", total=zst.stat().st_size)
        while chunk := reader.read(_CHUNK):
            dst.write(chunk)
            bar.update(task, completed=src.tell())
    return db


def sqlite_uri(path: Path, mode: str = "ro") -> str:
    """SQLite URI for ``path`` (quoted, so any file name works) opened in ``mode``."""
    return f"file:{quote(str(path))}?mode={mode}"


def open_index(archive: Archive) -> sqlite3.Connection:
    """Open the published index read-only (decompressing it on first use); rows are sqlite3.Row."""
    path = ensure_index(archive)
    con = sqlite3.connect(sqlite_uri(path), uri=True, check_same_thread=False)
    con.row_factory = sqlite3.Row
    return con
