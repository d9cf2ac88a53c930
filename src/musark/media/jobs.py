"""Planned tracks → TrackJobs: one set-based catalogue query, then source files matched by id."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from musark.archive import Archive
from musark.ids import is_valid_id
from musark.media.tags import TrackTags
from musark.media.track import TrackJob

# Every planned track with its metadata, artists, album artist and best local cover in one query.
JOBS_SQL = """
WITH todo AS (
    SELECT track_id, batch, seq_in_batch, tier, codec, target_kbps
    FROM track_files
    WHERE status = 'planned' AND batch IS NOT NULL AND ($batch IS NULL OR batch = $batch)
),
t AS (
    SELECT tr.* FROM tracks tr SEMI JOIN todo ON todo.track_id = tr.id
),
names AS (
    SELECT ta.track_id, list(a.name ORDER BY ta.position, a.name) AS artists
    FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
    WHERE ta.track_id IN (SELECT track_id FROM todo)
    GROUP BY ta.track_id
),
primaries AS (
    SELECT tr.album_id, a.name, count(*) AS n
    FROM tracks tr JOIN artists a ON a.id = tr.artist_id  -- the primary artist
    WHERE tr.album_id IN (SELECT album_id FROM t)
    GROUP BY ALL
),
album_artist AS (
    SELECT album_id, first(name ORDER BY n DESC, name) AS name FROM primaries GROUP BY album_id
),
covers AS (
    SELECT album_id,
           first(regexp_replace(url_or_path, '^file://', '')
                 ORDER BY coalesce(width, 0) * coalesce(height, 0) DESC, url_or_path) AS path
    FROM album_images
    WHERE album_id IN (SELECT album_id FROM t)
      AND (url_or_path NOT LIKE '%://%' OR url_or_path LIKE 'file://%')
    GROUP BY album_id
),
audio AS (
    SELECT track_id, min(path) AS path FROM track_audio
    WHERE track_id IN (SELECT track_id FROM todo) GROUP BY track_id
)
SELECT todo.track_id, todo.batch, todo.tier, todo.codec, todo.target_kbps,
       t.name AS title, t.duration_ms, t.isrc, t.track_number, t.disc_number,
       names.artists,
       CASE WHEN al.album_type = 'compilation' THEN 'Various Artists' ELSE album_artist.name END
           AS album_artist,
       al.name AS album, al.label, al.upc, al.release_date, al.total_tracks,
       coalesce(al.copyright_c, al.copyright_p) AS copyright,
       covers.path AS cover_path,
       audio.path AS audio_path
FROM todo
LEFT JOIN t ON t.id = todo.track_id
LEFT JOIN names ON names.track_id = todo.track_id
LEFT JOIN albums al ON al.id = t.album_id
LEFT JOIN album_artist ON album_artist.album_id = t.album_id
LEFT JOIN covers ON covers.album_id = t.album_id
LEFT JOIN audio ON audio.track_id = todo.track_id
ORDER BY todo.batch, todo.seq_in_batch, todo.track_id
"""


def planned_batches(con: duckdb.DuckDBPyConnection, batch: str | None = None) -> dict[str, int]:
    """Batches with planned tracks and how many each (in batch order)."""
    rows = con.execute(
        "SELECT batch, count(*) FROM track_files WHERE status = 'planned' AND batch IS NOT NULL "
        "AND ($batch IS NULL OR batch = $batch) GROUP BY batch ORDER BY batch",
        {"batch": batch},
    ).fetchall()
    return dict(rows)


def iter_jobs(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    batches: list[str],
    source_dir: Path | None = None,
) -> Iterator[TrackJob]:
    """TrackJobs batch after batch: memory holds one batch's jobs, not the whole plan."""
    index = scan_source_dir(source_dir) if source_dir is not None else None
    for name in batches:
        yield from load_jobs(con, archive, source_dir, name, source_index=index)


def scan_source_dir(source_dir: Path) -> dict[str, Path]:
    """Map ``<track_id>`` → file for every ``<track_id>.<ext>`` in ``source_dir`` (one listing)."""
    found: dict[str, Path] = {}
    with os.scandir(source_dir) as it:
        for entry in sorted(it, key=lambda e: e.name):
            stem, dot, _ = entry.name.rpartition(".")
            if dot and is_valid_id(stem) and stem not in found and entry.is_file():
                found[stem] = Path(entry.path).resolve()
    return found


def _action(codec: str | None, tier: str, tiers: dict[str, str]) -> str:
    if codec in ("keep", "opus"):
        return codec
    return tiers.get(tier, "opus")


def load_jobs(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    source_dir: Path | None = None,
    batch: str | None = None,
    source_index: dict[str, Path] | None = None,
) -> list[TrackJob]:
    """Return a TrackJob for every planned track (of ``batch``) in popularity order.

    ``source_index`` is ``scan_source_dir(source_dir)`` when the caller already has it.
    """
    rows: list[dict[str, Any]] = (
        con.sql(JOBS_SQL, params={"batch": batch}).to_arrow_table().to_pylist()
    )
    settings = archive.settings
    media = settings.section("media")
    tiers = {t["name"]: t["action"] for t in settings.section("plan").get("tiers", [])}
    by_id = source_index if source_index is not None else {}
    if source_dir is not None and source_index is None:
        by_id = scan_source_dir(source_dir)
    jobs = []
    for r in rows:
        if source_dir is not None:
            source = by_id.get(r["track_id"])
            hint = f"no {r['track_id']}.<ext> in {source_dir}"
        else:
            source = Path(r["audio_path"]) if r["audio_path"] else None
            hint = (
                f"no track_audio row for {r['track_id']} (ingest a folder or pass --source DIR)"
                if source is None
                else ""
            )
        tags = TrackTags(
            track_id=r["track_id"],
            title=r["title"] or r["track_id"],
            artists=list(r["artists"] or []),
            album_artist=r["album_artist"],
            album=r["album"],
            label=r["label"],
            isrc=r["isrc"],
            barcode=r["upc"],
            date=r["release_date"],
            track_number=r["track_number"],
            track_total=r["total_tracks"],
            disc_number=r["disc_number"],
            copyright=r["copyright"],
        )
        jobs.append(
            TrackJob(
                archive_root=str(archive.root),
                track_id=r["track_id"],
                batch=r["batch"],
                tier=r["tier"],
                action=_action(r["codec"], r["tier"], tiers),
                target_kbps=r["target_kbps"],
                source=str(source) if source else None,
                source_hint=hint,
                expected_ms=r["duration_ms"],
                tags=tags,
                cover_path=r["cover_path"],
                cover_max_px=int(media.get("cover_max_px", 1000)),
                cover_max_bytes=int(media.get("cover_max_bytes", 20_000_000)),
                duration_tolerance=float(media.get("duration_tolerance", 0.25)),
            )
        )
    return jobs
