"""Builders of small catalogue dumps in every ingest format, made from plain track records."""

from __future__ import annotations

import copy
import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard


def track(n: int = 1, **over: Any) -> dict[str, Any]:
    """A valid API-style track record; keyword overrides replace top-level fields."""
    rec: dict[str, Any] = {
        "id": f"trk{n:04d}",
        "name": f"Song {n} — Café 東京",
        "album": {
            "id": "alb0001",
            "name": "Ærø Nights",
            "album_type": "album",
            "label": "Northern Lights Records",
            "copyrights": [
                {"text": "© 2019 Northern Lights Records", "type": "C"},
                {"text": "℗ 2019 Northern Lights Records", "type": "P"},
            ],
            "external_ids": {"upc": "000000000017"},
            "release_date": "2019-02-03",
            "release_date_precision": "day",
            "total_tracks": 12,
            "popularity": 40,
            "images": [{"url": "https://images.example.org/a/640", "width": 640, "height": 640}],
        },
        "artists": [{"id": "art0001", "name": "Ann Ångström"}],
        "track_number": n,
        "disc_number": 1,
        "duration_ms": 200000 + n,
        "explicit": False,
        "external_ids": {"isrc": f"USABC19{n:05d}"},
        "popularity": 30,
        "fetched_at": "2025-07-01T00:00:00Z",
    }
    rec.update(copy.deepcopy(over))
    return rec


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """Write records (dicts, or raw bytes/str lines) as JSONL, compressed by the suffix."""
    lines = []
    for r in records:
        if isinstance(r, bytes):
            lines.append(r)
        elif isinstance(r, str):
            lines.append(r.encode())
        else:
            lines.append(json.dumps(r, ensure_ascii=False).encode())
    data = b"\n".join(lines) + b"\n"
    if path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    elif path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def flat_row(rec: dict[str, Any]) -> dict[str, Any]:
    """The flat CSV/Parquet row of an API-style record."""
    al = rec["album"]
    copy_c = next((c["text"] for c in al.get("copyrights", []) if c["type"] == "C"), None)
    copy_p = next((c["text"] for c in al.get("copyrights", []) if c["type"] == "P"), None)
    img = (al.get("images") or [{}])[0]
    return {
        "id": rec["id"],
        "name": rec["name"],
        "album_id": al["id"],
        "album_name": al["name"],
        "album_type": al["album_type"],
        "label": al["label"],
        "copyright_c": copy_c,
        "copyright_p": copy_p,
        "upc": al["external_ids"]["upc"],
        "release_date": al["release_date"],
        "release_date_precision": al["release_date_precision"],
        "total_tracks": al["total_tracks"],
        "album_popularity": al["popularity"],
        "track_number": rec["track_number"],
        "disc_number": rec["disc_number"],
        "duration_ms": rec["duration_ms"],
        "explicit": rec["explicit"],
        "isrc": rec["external_ids"]["isrc"],
        "popularity": rec["popularity"],
        "streams": rec.get("streams"),
        "fetched_at": rec.get("fetched_at"),
        "artist_ids": ";".join(a["id"] for a in rec["artists"]),
        "artist_names": ";".join(a["name"] for a in rec["artists"]),
        "image_url": img.get("url"),
        "image_width": img.get("width"),
        "image_height": img.get("height"),
    }


def write_parquet(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write flat track rows as Parquet (typed columns, as a real export would have)."""
    pq.write_table(pa.Table.from_pylist([flat_row(r) for r in records]), path)
    return path


def write_sqlite(
    path: Path, records: list[dict[str, Any]], genres: dict[str, list[str]] | None = None
) -> Path:
    """Write records in the rowid-keyed SQLite layout of docs/catalog.md."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE artists (rowid INTEGER PRIMARY KEY, id TEXT, fetched_at INTEGER, name TEXT,
                              followers_total INTEGER, popularity INTEGER);
        CREATE TABLE artist_genres (artist_rowid INTEGER, genre TEXT);
        CREATE TABLE albums (rowid INTEGER PRIMARY KEY, id TEXT, fetched_at INTEGER, name TEXT,
            album_type TEXT, external_id_upc TEXT, copyright_c TEXT, copyright_p TEXT, label TEXT,
            popularity INTEGER, release_date TEXT, release_date_precision TEXT, total_tracks INTEGER);
        CREATE TABLE album_images (album_rowid INTEGER, width INTEGER, height INTEGER, url TEXT);
        CREATE TABLE tracks (rowid INTEGER PRIMARY KEY, id TEXT, fetched_at INTEGER, name TEXT,
            preview_url TEXT, album_rowid INTEGER, track_number INTEGER, external_id_isrc TEXT,
            popularity INTEGER, disc_number INTEGER, duration_ms INTEGER, explicit INTEGER);
        CREATE TABLE track_artists (track_rowid INTEGER, artist_rowid INTEGER);
    """)
    albums: dict[str, int] = {}
    artists: dict[str, int] = {}
    for rec in records:
        al = rec["album"]
        if al["id"] not in albums:
            row = flat_row(rec)
            cur = db.execute(
                "INSERT INTO albums (id, fetched_at, name, album_type, external_id_upc, copyright_c,"
                " copyright_p, label, popularity, release_date, release_date_precision, total_tracks)"
                " VALUES (?, 1751328000, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (al["id"], al["name"], al["album_type"], row["upc"], row["copyright_c"],
                 row["copyright_p"], al["label"], al["popularity"], al["release_date"],
                 al["release_date_precision"], al["total_tracks"]),
            )  # fmt: skip
            albums[al["id"]] = cur.lastrowid
            for im in al.get("images", []):
                db.execute(
                    "INSERT INTO album_images VALUES (?, ?, ?, ?)",
                    (cur.lastrowid, im["width"], im["height"], im["url"]),
                )
        for a in rec["artists"]:
            if a["id"] not in artists:
                cur = db.execute(
                    "INSERT INTO artists (id, fetched_at, name, followers_total, popularity)"
                    " VALUES (?, 1751328000, ?, ?, ?)",
                    (a["id"], a["name"], a.get("followers", 1234), a.get("popularity", 55)),
                )
                artists[a["id"]] = cur.lastrowid
                for g in (genres or {}).get(a["id"], []):
                    db.execute("INSERT INTO artist_genres VALUES (?, ?)", (cur.lastrowid, g))
        fetched = rec.get("fetched_at_epoch", 1751328000)
        cur = db.execute(
            "INSERT INTO tracks (id, fetched_at, name, album_rowid, track_number, external_id_isrc,"
            " popularity, disc_number, duration_ms, explicit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec["id"], fetched, rec["name"], albums[al["id"]], rec["track_number"],
             rec["external_ids"]["isrc"], rec["popularity"], rec["disc_number"],
             rec["duration_ms"], int(rec["explicit"])),
        )  # fmt: skip
        for a in rec["artists"]:
            db.execute("INSERT INTO track_artists VALUES (?, ?)", (cur.lastrowid, artists[a["id"]]))
    db.commit()
    db.close()
    return path
