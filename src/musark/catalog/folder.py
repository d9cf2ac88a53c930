"""Folders of tagged audio (Ogg Vorbis, Opus, FLAC, MP3, M4A): tags read with mutagen on every core.

Tag reading is the only per-file Python (it has to open each file); everything after it — ids,
placeholders, validation — is one DuckDB pass per chunk. Ids are hashes of what the file says
(artist, album, disc, track number, title, duration), so a re-scan yields the same ids. Files
without tags are catalogued the way music servers do it: the title comes from the file name and
the artist/album become 'Unknown Artist'/'Unknown Album'; they are counted in a warning.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import mutagen
import pyarrow as pa

from musark.catalog.validate import ORD_SHIFT, stage_chunk

AUDIO_EXTENSIONS = (".ogg", ".oga", ".opus", ".flac", ".mp3", ".m4a", ".mp4")
UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_ALBUM = "Unknown Album"

# easy-tag names -> our fields (mutagen's EasyID3/EasyMP4 and Vorbis comments share these names)
_TAGS = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "albumartist": "albumartist",
    "tracknumber": "tracknumber",
    "discnumber": "discnumber",
    "date": "date",
    "isrc": "isrc",
    "organization": "label",
    "label": "label",
    "copyright": "copyright",
    "genre": "genre",
}
_FIELDS = ("title", "album", "albumartist", "tracknumber", "discnumber", "date", "isrc", "label",
           "copyright")  # fmt: skip


def find_audio(root: Path) -> list[Path]:
    """Every audio file under ``root``, in a stable (sorted) order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(AUDIO_EXTENSIONS) and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found


def read_tags(path: str) -> dict[str, Any]:
    """Read one file's tags and duration (runs in a worker process); errors are returned, not raised."""
    rec: dict[str, Any] = {f: None for f in _FIELDS}
    rec.update(path=path, artists=None, genres=None, duration_ms=None, error=None)
    try:
        st = os.stat(path)
        rec["size"], rec["mtime_ns"] = st.st_size, st.st_mtime_ns
        audio = mutagen.File(path, easy=True)
        if audio is None:
            raise ValueError("not a recognised audio format")
        rec["duration_ms"] = round((audio.info.length or 0) * 1000)
        tags = audio.tags or {}
        for key, field in _TAGS.items():
            try:
                values = [str(v) for v in tags.get(key, []) if str(v).strip()]
            except (KeyError, ValueError):
                values = []
            if not values:
                continue
            if key == "artist":
                rec["artists"] = values
            elif key == "genre":
                rec["genres"] = values
            elif rec.get(field) is None:
                rec[field] = values[0]
    except Exception as exc:  # mutagen raises many types for corrupt files; all mean "unreadable"
        rec["error"] = f"{type(exc).__name__}: {exc}"[:500]
        rec.setdefault("size", None)
        rec.setdefault("mtime_ns", None)
    return rec


_SCHEMA = pa.schema(
    [("path", pa.string()), ("rel", pa.string()), ("stem", pa.string())]
    + [(f, pa.string()) for f in _FIELDS]
    + [
        ("artists", pa.list_(pa.string())),
        ("genres", pa.list_(pa.string())),
        ("duration_ms", pa.int64()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("error", pa.string()),
        ("_row", pa.int64()),
    ]
)


def _raw_sql(view: str, source: str, source_no: int) -> str:
    src = source.replace("'", "''")
    hid = "substr(md5({}), 1, 22)"
    return f"""
    WITH f AS (
        SELECT *,
            coalesce(artists, CASE WHEN albumartist IS NOT NULL THEN [albumartist] END,
                     ['{UNKNOWN_ARTIST}']) AS artist_names,
            coalesce(albumartist, artists[1], '{UNKNOWN_ARTIST}') AS album_artist,
            coalesce(album, '{UNKNOWN_ALBUM}') AS album_name,
            coalesce(title, stem) AS track_title,
            regexp_extract(tracknumber, '^\\s*([0-9]+)', 1) AS tno,
            regexp_extract(tracknumber, '/\\s*([0-9]+)', 1) AS tot,
            regexp_extract(discnumber, '^\\s*([0-9]+)', 1) AS dno,
            regexp_extract(date, '^([0-9]{{4}}(-[0-9]{{2}}(-[0-9]{{2}})?)?)', 1) AS rdate
        FROM {view}
    ), k AS (
        SELECT *, {hid.format("'album|' || lower(album_artist) || '|' || lower(album_name)")} AS aid,
            title IS NULL OR artists IS NULL OR album IS NULL AS untagged
        FROM f
    ), k2 AS (
        -- album fields come from whichever of its files carry them, not just the newest file
        SELECT * REPLACE (
            max(nullif(rdate, '')) OVER w AS rdate, max(nullif(tot, '')) OVER w AS tot,
            max(label) OVER w AS label, max(copyright) OVER w AS copyright,
            nullif(list_sort(list_distinct(flatten(list(genres) OVER w))), []) AS genres)
        FROM k WINDOW w AS (PARTITION BY aid)
    )
    SELECT {source_no}::BIGINT * {ORD_SHIFT} + _row AS ord, '{src}' AS source, rel AS locator,
        coalesce(error, to_json(struct_pack(path, title, artists, album, tracknumber,
                                           isrc))::VARCHAR) AS raw,
        CASE WHEN error IS NOT NULL THEN 'unreadable_file' END AS pre_reason,
        {hid.format("concat_ws('|', 'track', aid, coalesce(dno, '1'), tno, lower(track_title), (duration_ms // 1000)::VARCHAR, CASE WHEN untagged THEN rel END)")} AS id,
        track_title AS name, aid AS album_id, album_name, NULL AS album_type, label,
        copyright AS copyright_c, NULL AS copyright_p, NULL AS upc,
        nullif(rdate, '') AS release_date, NULL AS release_date_precision,
        nullif(tot, '') AS total_tracks, NULL AS album_popularity,
        nullif(tno, '') AS track_number, nullif(dno, '') AS disc_number,
        duration_ms::VARCHAR AS duration_ms, NULL AS explicit, isrc, NULL AS popularity,
        NULL AS streams,
        strftime(make_timestamp(mtime_ns // 1000), '%Y-%m-%dT%H:%M:%S.%fZ') AS fetched_at,
        path AS audio_path, size::VARCHAR AS audio_size, mtime_ns::VARCHAR AS audio_mtime_ns,
        list_transform(artist_names, lambda n: struct_pack(
            id := {hid.format("'artist|' || lower(n)")}, name := n,
            followers := NULL::VARCHAR, popularity := NULL::VARCHAR, genres := genres)) AS artists,
        NULL::STRUCT(url VARCHAR, width VARCHAR, height VARCHAR)[] AS images,
        untagged
    FROM k2
    """


def stage_folder(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source_no: int,
    chunk_rows: int,
    on_rows=None,
    report: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Stage every audio file under ``path``; locators are paths relative to it."""
    files = find_audio(path)
    ok = bad = untagged = 0
    workers = max(1, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(files), chunk_rows):
            chunk = [str(p) for p in files[start : start + chunk_rows]]
            recs = list(pool.map(read_tags, chunk, chunksize=max(1, len(chunk) // (workers * 4))))
            for i, r in enumerate(recs):
                p = Path(r["path"])
                r["rel"] = str(p.relative_to(path))
                r["stem"] = p.stem
                r["_row"] = start + i + 1
            table = pa.Table.from_pylist(recs, schema=_SCHEMA)
            con.register("_folder_batch", table)
            try:
                raw = _raw_sql("_folder_batch", str(path), source_no)
                untagged += con.execute(
                    f"SELECT count(*) FROM ({raw}) WHERE untagged AND pre_reason IS NULL"
                ).fetchall()[0][0]
                o, b = stage_chunk(con, f"SELECT * EXCLUDE (untagged) FROM ({raw})")
            finally:
                con.unregister("_folder_batch")
            ok += o
            bad += b
            if on_rows is not None:
                on_rows(len(chunk))
    if report is not None:
        report["untagged"] = untagged
        report["warnings"] = (
            [
                f"{path}: {untagged} file(s) with missing tags catalogued with placeholders "
                f"(title from file name, '{UNKNOWN_ARTIST}', '{UNKNOWN_ALBUM}')"
            ]
            if untagged
            else []
        )
    return ok, bad
