"""Catalogue rows written directly with SQL, plus generated source audio, for media tests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.media.synth import write_audio


@dataclass
class Track:
    """One planned track and how to make its source file."""

    id: str
    ext: str = "ogg"
    seconds: float = 3.0
    tier: str = "keep"
    kbps: int | None = None
    duration_ms: int | None = None  # catalogue duration; default: the generated length
    channels: int = 2
    seed: int = 1


def cover_png(path: Path, size: tuple[int, int] = (300, 200), color=(200, 40, 40)) -> Path:
    """A small generated PNG cover."""
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def cover_jpeg_bytes(size: tuple[int, int], color=(10, 120, 200)) -> bytes:
    """A generated JPEG of ``size`` pixels."""
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def make_catalog(
    archive: Archive,
    tracks: list[Track],
    source_dir: Path,
    batch: str = "keep__0001",
    cover: Path | None = None,
    write_sources: bool = True,
) -> dict[str, Path]:
    """Write artists/albums/tracks/track_files rows and source files; return id → source path."""
    source_dir.mkdir(parents=True, exist_ok=True)
    con = connect(archive.catalog_db)
    con.execute(
        "INSERT INTO artists (id, name) VALUES ('ar1', 'Ada Lovetone'), ('ar2', 'Bo Featured')"
    )
    con.execute(
        """INSERT INTO albums (id, name, album_type, label, copyright_c, upc, release_date,
                              release_date_precision, total_tracks)
           VALUES ('al1', 'Generated Works', 'album', 'CC0 Records', '2024 CC0 Records',
                   '0123456789012', '2024-05-17', 'day', ?)""",
        [len(tracks)],
    )
    if cover is not None:
        con.execute("INSERT INTO album_images VALUES ('al1', 300, 200, ?)", [str(cover)])
    paths: dict[str, Path] = {}
    for n, t in enumerate(tracks):
        path = source_dir / f"{t.id}.{t.ext}"
        if write_sources:
            write_audio(path, t.seconds, channels=t.channels, kbps=t.kbps, seed=t.seed + n)
        paths[t.id] = path
        action = "keep" if t.tier == "keep" else "opus"
        kbps = None if action == "keep" else int(t.tier.removeprefix("opus"))
        con.execute(
            """INSERT INTO tracks (id, name, album_id, track_number, disc_number, duration_ms,
                                   isrc, popularity, artist_id)
               VALUES (?, ?, 'al1', ?, 1, ?, ?, 50, 'ar1')""",
            [
                t.id,
                f"Song {n + 1} – ünïcode",
                n + 1,
                t.duration_ms if t.duration_ms is not None else int(t.seconds * 1000),
                f"QZAAA24{n:05d}",
            ],
        )
        con.execute("INSERT INTO track_artists VALUES (?, 'ar1', 0), (?, 'ar2', 1)", [t.id, t.id])
        con.execute(
            """INSERT INTO track_files (track_id, batch, seq_in_batch, tier, codec, target_kbps,
                                        status)
               VALUES (?, ?, ?, ?, ?, ?, 'planned')""",
            [t.id, batch if t.tier == "keep" else "opus75__0001", n, t.tier, action, kbps],
        )
    con.close()
    return paths


def track_files(archive: Archive) -> list[dict]:
    """Every track_files row, as dicts sorted by track id."""
    con = connect(archive.catalog_db, read_only=True)
    try:
        return con.sql("SELECT * FROM track_files ORDER BY track_id").to_arrow_table().to_pylist()
    finally:
        con.close()
