"""A small released archive built directly: index rows plus real generated, tagged audio files.

Artists and albums use accented and CJK names (for search), files span every container the
server handles, and some tracks are in the index only: one whose batch was not downloaded to
this mirror (``t11``) and one that was never archived (``t12``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TIT2, TPE1
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from PIL import Image

from musark.archive import Archive, init_archive
from musark.index.schema import create_schema
from musark.media.synth import write_audio

BATCH = "keep-0001"
MISSING_BATCH = "keep-0002"

ARTISTS = [
    # id, name, followers, popularity, genres
    ("ar1", "Ada Lovelace Ensemble", 5000, 80, ["electronic"]),
    ("ar2", "Émilie Brûlé", 1200, 60, ["chanson"]),
    ("ar3", "東京の夜", 900, 55, ["jpop"]),
    ("ar4", "The Quiet Ones", 100, 20, ["rock"]),
]
ALBUMS = [
    # id, name, artist, release_date, popularity, label, upc
    ("al1", "First Light", "ar1", "2019-03-01", 75, "Open Label", "000000000001"),
    ("al2", "Déjà Vu", "ar2", "2021-06-15", 58, "Libre Disques", "000000000002"),
    ("al3", "夜の歌", "ar3", "2015-11-20", 50, None, "000000000003"),
    ("al4", "Loud Silence", "ar4", "2023-01-10", 15, "Garage", "000000000004"),
]
# id, title, album, track number, extension (None: not archived), present in files/
TRACKS = [
    ("t01", "Analytical Engine", "al1", 1, "flac", True),
    ("t02", "Bernoulli Numbers", "al1", 2, "flac", True),
    ("t03", "Poetical Science", "al1", 3, "flac", True),
    ("t04", "Café de Flore", "al2", 1, "mp3", True),
    ("t05", "Rêverie", "al2", 2, "mp3", True),
    ("t06", "Déjà Vu", "al2", 3, "ogg", True),
    ("t07", "東京タワー", "al3", 1, "opus", True),
    ("t08", "夜の歌", "al3", 2, "opus", True),
    ("t09", "桜", "al3", 3, "opus", True),
    ("t10", "Whisper", "al4", 1, "ogg", True),
    ("t11", "Silence Is Loud", "al4", 2, "ogg", False),
    ("t12", "Unreleased Take", "al4", 3, None, False),
]
FEATURED = {"t03": "ar2"}  # t03 also credits Émilie Brûlé as second artist
SECONDS = 2.0
COVER_PX = 600
ART_PX = 800


@dataclass(frozen=True)
class Released:
    """The built archive and where its files are."""

    archive: Archive
    files: dict[str, Path]  # track id -> file present in files/
    covers: dict[str, bytes]  # album id -> embedded cover bytes


def _cover(album_id: str) -> bytes:
    colour = {"al1": (200, 40, 40), "al2": (40, 160, 60), "al3": (30, 60, 200)}.get(
        album_id, (90, 90, 90)
    )
    buf = io.BytesIO()
    Image.new("RGB", (COVER_PX, COVER_PX), colour).save(buf, "PNG")
    return buf.getvalue()


def _tag(path: Path, title: str, artist: str, album: str, cover: bytes) -> None:
    ext = path.suffix
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/png", cover
    pic.width = pic.height = COVER_PX
    if ext == ".flac":
        f = FLAC(path)
        f["title"], f["artist"], f["album"] = title, artist, album
        f.add_picture(pic)
        f.save()
    elif ext == ".mp3":
        tags = ID3()
        tags.add(TIT2(encoding=3, text=title))
        tags.add(TPE1(encoding=3, text=artist))
        tags.add(TALB(encoding=3, text=album))
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="front", data=cover))
        tags.save(path)
    else:
        f = OggOpus(path) if ext == ".opus" else OggVorbis(path)
        f["title"], f["artist"], f["album"] = title, artist, album
        f["metadata_block_picture"] = [base64.b64encode(pic.write()).decode("ascii")]
        f.save()


def build_released(root: Path) -> Released:
    """Create the archive at ``root``: published index, batch folder, users none."""
    archive = Archive(root)
    init_archive(archive)
    con = sqlite3.connect(archive.index_db)
    create_schema(con)
    artist_names = {a[0]: a[1] for a in ARTISTS}
    albums = {a[0]: a for a in ALBUMS}
    for aid, name, followers, pop, genres in ARTISTS:
        con.execute("INSERT INTO artists VALUES (?, ?, ?, ?)", (aid, name, followers, pop))
        con.executemany("INSERT INTO artist_genres VALUES (?, ?)", [(aid, g) for g in genres])
    for alid, name, _artist, date, pop, label, upc in ALBUMS:
        con.execute(
            "INSERT INTO albums VALUES (?, ?, 'album', ?, NULL, NULL, ?, ?, 'day', 3, ?)",
            (alid, name, label, upc, date, pop),
        )
    files: dict[str, Path] = {}
    covers: dict[str, bytes] = {}
    for n, (tid, title, alid, num, ext, present) in enumerate(TRACKS):
        artist_id = albums[alid][2]
        con.execute(
            "INSERT INTO tracks VALUES (?, ?, ?, ?, 1, ?, 0, ?, ?, ?)",
            (tid, title, alid, num, int(SECONDS * 1000), f"XXA0{n:07d}", 90 - 5 * n, 10000 - n),
        )
        con.execute("INSERT INTO track_artists VALUES (?, ?, 0)", (tid, artist_id))
        if tid in FEATURED:
            con.execute("INSERT INTO track_artists VALUES (?, ?, 1)", (tid, FEATURED[tid]))
        if ext is None:
            continue
        batch = BATCH if present else MISSING_BATCH
        rel = f"data/{tid}.{ext}"
        if present:
            path = archive.files_dir / batch / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_audio(path, SECONDS, seed=n, kbps=96 if ext in ("mp3", "ogg", "opus") else None)
            covers.setdefault(alid, _cover(alid))
            _tag(path, title, artist_names[artist_id], albums[alid][1], covers[alid])
            data = path.read_bytes()
            files[tid] = path
            size, sha = len(data), hashlib.sha256(data).hexdigest()
        else:
            size, sha = 12345, "0" * 64
        kbps = {"flac": 900, "mp3": 96, "ogg": 96, "opus": 96}[ext]
        con.execute(
            "INSERT INTO track_files VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, 'keep')",
            (tid, batch, rel, n, size, sha, ext, kbps),
        )
    # al4 also has an image in the album-art collection, larger than its embedded cover.
    art = archive.release_dir / "album_art" / "al4.png"
    art.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (ART_PX, ART_PX), (250, 200, 0)).save(art, "PNG")
    con.execute("INSERT INTO album_images VALUES ('al4', ?, ?, 'al4.png')", (ART_PX, ART_PX))
    con.commit()
    con.close()
    return Released(archive, files, covers)
