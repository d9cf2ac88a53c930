"""Read-only access to the published index, decompressing the .zst once on a mirror."""

from __future__ import annotations

import sqlite3

import zstandard

from musark.archive import Archive
from musark.fsio import atomic_writer

_CHUNK = 1 << 20


def ensure_index_db(archive: Archive) -> None:
    """Make ``release/index/musark_index.sqlite3`` from the .zst when missing or older than it."""
    db, zst = archive.index_db, archive.index_zst
    if not zst.exists():
        if db.exists():
            return
        raise FileNotFoundError(
            f"{zst}: no published index here; run `musark release` or fetch the index torrent"
        )
    if db.exists() and db.stat().st_mtime_ns >= zst.stat().st_mtime_ns:
        return
    dctx = zstandard.ZstdDecompressor()
    with open(zst, "rb") as src, atomic_writer(db) as dst:
        dctx.copy_stream(src, dst, read_size=_CHUNK, write_size=_CHUNK)


def open_index(archive: Archive) -> sqlite3.Connection:
    """Open the published index read-only (decompressing it on first use)."""
    ensure_index_db(archive)
    con = sqlite3.connect(f"file:{archive.index_db}?mode=ro", uri=True, check_same_thread=False)
    con.row_factory = sqlite3.Row
    return con
