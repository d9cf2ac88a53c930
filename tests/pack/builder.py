"""Builds a small processed archive straight into the catalogue schema, as plan + process would."""

from __future__ import annotations

import hashlib

from PIL import Image

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.media.synth import write_audio


def build_archive(
    archive: Archive,
    batches: dict[str, int] | None = None,
    *,
    record_sha256: bool = True,
    seconds: float = 1.0,
) -> dict[str, list[str]]:
    """Catalogue rows, audio files and patches for ``{batch: n_files}``; return track ids per batch.

    Every third track has a reconstruction patch; when ``record_sha256`` is False every other
    track's SHA-256 is left NULL (release must compute it)."""
    batches = batches or {"keep__0001": 6}
    con = connect(archive.catalog_db)
    out: dict[str, list[str]] = {}
    con.execute(
        "INSERT INTO artists (id, name, followers, popularity, source) "
        "VALUES ('ar1', 'Ada Tone', 10, 50, 'test')"
    )
    con.execute("INSERT INTO artist_genres VALUES ('ar1', 'ambient')")
    n_total = 0
    for b_i, (batch, n) in enumerate(batches.items()):
        tier = batch.split("__")[0]
        album = f"al{b_i}"
        con.execute(
            "INSERT INTO albums (id, name, album_type, label, upc, release_date, "
            "release_date_precision, total_tracks, popularity, source) "
            "VALUES (?, ?, 'album', 'CC0 Records', ?, '2024-05-01', 'day', ?, 40, 'test')",
            [album, f"Album {b_i}", f"00000000000{b_i}", n],
        )
        img = archive.root / "images" / f"{album}.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32 + b_i, 32), (200, 30 * b_i, 90)).save(img)
        con.execute(
            "INSERT INTO album_images (album_id, width, height, url_or_path) VALUES (?, 32, 32, ?)",
            [album, str(img)],
        )
        con.execute(
            "INSERT INTO album_images (album_id, width, height, url_or_path) "
            "VALUES (?, 640, 640, 'https://example.invalid/x.jpg')",
            [album],
        )
        ids = []
        for i in range(n):
            tid = f"t{b_i}x{i:03d}"
            ids.append(tid)
            ext = ("ogg", "opus", "flac")[i % 3]
            path = archive.track_path(batch, tid, ext)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_audio(
                path, seconds + 0.1 * i, seed=n_total + i, kbps=64 if ext != "flac" else None
            )
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if not record_sha256 and i % 2:
                sha = None
            patch_size = None
            if i % 3 == 0:
                patch = archive.patch_path(batch, tid)
                patch.parent.mkdir(parents=True, exist_ok=True)
                patch.write_bytes(hashlib.sha512(tid.encode()).digest() * (10 + i))
                patch_size = patch.stat().st_size
            con.execute(
                "INSERT INTO tracks (id, name, album_id, track_number, disc_number, duration_ms, "
                "explicit, isrc, popularity, source, artist_id) "
                "VALUES (?, ?, ?, ?, 1, ?, false, ?, ?, 'test', 'ar1')",
                [
                    tid,
                    f"Song {tid}",
                    album,
                    i + 1,
                    int(1000 * seconds),
                    f"QZZZZ24{n_total + i:05d}",
                    90 - i,
                ],
            )
            con.execute("INSERT INTO track_artists VALUES (?, 'ar1', 0)", [tid])
            con.execute(
                "INSERT INTO track_files (track_id, batch, seq_in_batch, tier, codec, target_kbps, "
                "status, ext, size, sha256, sha256_original, patch_size, bitrate_kbps) "
                "VALUES (?, ?, ?, ?, ?, 64, 'done', ?, ?, ?, ?, ?, 64)",
                [
                    tid,
                    batch,
                    i,
                    tier,
                    {"ogg": "vorbis", "opus": "opus", "flac": "flac"}[ext],
                    ext,
                    len(data),
                    sha,
                    hashlib.sha256(tid.encode()).hexdigest(),
                    patch_size,
                ],
            )
        n_total += n
        con.execute(
            "INSERT INTO batches (name, tier, seq, status, num_files, popularity_min, "
            "popularity_max) VALUES (?, ?, ?, 'planned', ?, ?, ?)",
            [batch, tier, b_i + 1, n, 90 - n, 90 - b_i],
        )
        out[batch] = ids
    con.close()
    return out
