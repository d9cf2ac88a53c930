"""Writes the published index from the catalogue: SQLite built from Arrow batches, then zstd."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import zstandard

from musark import __version__
from musark.archive import Archive
from musark.fsio import atomic_path, atomic_writer
from musark.index.schema import create_schema

CHUNK_ROWS = 200_000
ZSTD_LEVEL = 12
KINDS = {"batches": "batch", "patches": "patches", "album_art": "album_art", "metadata": "metadata"}

# (index table, its columns, the catalogue query that fills it in primary-key order)
COPIES: list[tuple[str, str, str]] = [
    (
        "artists",
        "id, name, followers, popularity",
        "SELECT id, name, followers, popularity FROM artists ORDER BY id, fetched_at DESC NULLS LAST",
    ),
    (
        "artist_genres",
        "artist_id, genre",
        "SELECT DISTINCT artist_id, genre FROM artist_genres ORDER BY artist_id, genre",
    ),
    (
        "albums",
        "id, name, album_type, label, copyright_c, copyright_p, upc, release_date, "
        "release_date_precision, total_tracks, popularity",
        "SELECT id, name, album_type, label, copyright_c, copyright_p, upc, release_date, "
        "release_date_precision, total_tracks, popularity FROM albums "
        "ORDER BY id, fetched_at DESC NULLS LAST",
    ),
    (
        "tracks",
        "id, name, album_id, track_number, disc_number, duration_ms, explicit, isrc, "
        "popularity, streams",
        "SELECT id, name, album_id, track_number, disc_number, duration_ms, "
        "CAST(explicit AS INTEGER), isrc, popularity, streams FROM tracks "
        "ORDER BY id, fetched_at DESC NULLS LAST",
    ),
    (
        "track_artists",
        "track_id, artist_id, position",
        "SELECT track_id, artist_id, position FROM track_artists "
        "ORDER BY track_id, position, artist_id",
    ),
    (
        "track_files",
        "track_id, batch, path, file_index_in_torrent, size, sha256, sha256_original, "
        "patch_path, codec, kbps, tier",
        """
        WITH files AS (
            SELECT f.track_id, f.batch, fm.path, fm.file_index, f.size, f.sha256,
                   f.sha256_original,
                   CASE WHEN f.patch_size IS NOT NULL THEN f.track_id || '.zstdpatch' END AS patch,
                   f.codec, coalesce(f.bitrate_kbps, f.target_kbps) AS kbps, f.tier
            FROM track_files f
            JOIN batches b ON b.name = f.batch AND b.status = 'released'
            JOIN file_map fm ON fm.batch = f.batch AND fm.path = 'data/' || f.track_id || '.' || f.ext
            WHERE f.status = 'done'
        )
        SELECT * FROM files
        UNION ALL
        -- a track deduplicated onto another (same ISRC) is served by that track's file
        SELECT d.track_id, c.batch, c.path, c.file_index, c.size, c.sha256, c.sha256_original,
               c.patch, c.codec, c.kbps, c.tier
        FROM track_files d JOIN files c ON c.track_id = d.dedup_of
        WHERE d.status = 'dedup' AND d.track_id NOT IN (SELECT track_id FROM files)
        ORDER BY 1
        """,
    ),
]


def _insert_batches(
    lite: sqlite3.Connection, table: str, columns: str, batches: Iterable[pa.RecordBatch]
) -> int:
    marks = ", ".join("?" * len(columns.split(",")))
    sql = f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})"
    n = 0
    for batch in batches:
        lite.executemany(sql, zip(*(c.to_pylist() for c in batch.columns), strict=True))
        n += batch.num_rows
    return n


def file_map(archive: Archive, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(batch, path, file_index) of every file of every released batch: release's record of it,
    else (a batch released before that record existed) read from the batch's torrent."""
    from musark.pack.build import layout_of_torrent

    recorded = con.sql(
        "SELECT r.batch, r.path, r.file_index FROM release_files r "
        "JOIN batches b ON b.name = r.batch AND b.status = 'released'"
    ).to_arrow_table()
    have = set(recorded.column("batch").unique().to_pylist())
    batches, paths, indices = [], [], []
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM batches WHERE status = 'released' ORDER BY name"
        ).fetchall()
    ]
    for name in names:
        torrent = archive.torrents_dir / f"{name}.torrent"
        if name in have or not torrent.exists():
            continue
        _, layout = layout_of_torrent(torrent.read_bytes())
        fi = layout.file_indices()
        batches += [name] * len(fi)
        paths += list(fi)
        indices += list(fi.values())
    parsed = pa.table(
        {
            "batch": pa.array(batches, pa.string()),
            "path": pa.array(paths, pa.string()),
            "file_index": pa.array(indices, pa.int64()),
        }
    )
    return pa.concat_tables([recorded.cast(parsed.schema), parsed])


def write_index(
    archive: Archive,
    con: duckdb.DuckDBPyConnection,
    torrents: Sequence[Mapping[str, Any]],
    album_images: Sequence[tuple[str, int | None, int | None, str]],
    meta: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Write release/index/musark_index.sqlite3 and its .zst atomically; return rows per table."""
    fm = file_map(archive, con)
    con.register("file_map", fm)
    counts: dict[str, int] = {}
    try:
        with atomic_path(archive.index_db) as tmp:
            tmp.unlink()
            lite = sqlite3.connect(tmp)
            try:
                lite.execute("PRAGMA page_size = 4096")
                lite.execute("PRAGMA journal_mode = OFF")
                lite.execute("PRAGMA synchronous = OFF")
                create_schema(lite)
                for table, columns, sql in COPIES:
                    reader = con.sql(sql).to_arrow_reader(CHUNK_ROWS)
                    counts[table] = _insert_batches(lite, table, columns, reader)
                lite.executemany(
                    "INSERT OR IGNORE INTO album_images (album_id, width, height, path) "
                    "VALUES (?, ?, ?, ?)",
                    sorted(album_images),
                )
                counts["album_images"] = len(album_images)
                rows = sorted(
                    (
                        t["name"],
                        KINDS.get(t["group"], t["group"]),
                        t["btih"],
                        t["btmh"],
                        t["magnet_link"],
                        t["torrent_path"],
                        t["num_files"],
                        t["data_size"],
                    )
                    for t in torrents
                    if not t.get("is_metadata")
                )
                lite.executemany("INSERT OR REPLACE INTO torrents VALUES (?,?,?,?,?,?,?,?)", rows)
                counts["torrents"] = len(rows)
                info = {"generator": f"musark {__version__}", **(meta or {})}
                lite.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", sorted(info.items())
                )
                lite.commit()
            finally:
                lite.close()
            cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
            with open(tmp, "rb") as src, atomic_writer(archive.index_zst) as dst:
                cctx.copy_stream(src, dst, read_size=1 << 20, write_size=1 << 20)
            os.utime(tmp)  # newer than the .zst: open_index must not decompress it again
    finally:
        con.unregister("file_map")
    return counts
