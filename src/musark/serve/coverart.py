"""Cover art: the picture embedded in an album's files (or the album-art folder), resized with Pillow."""

from __future__ import annotations

import base64
import io
import re
import threading
from collections import OrderedDict
from pathlib import Path

import mutagen
from mutagen.flac import Picture
from PIL import Image

from musark.serve.library import Library

MAX_SIZE = 2048
MAX_SOURCE_BYTES = 20_000_000
_CACHE_ENTRIES = 256
# The album-art torrent's files: '<album_id>.<ext>' in release/album_art/ (files/album_art/ on a
# mirror that fetched that torrent like a batch).
_ART_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(?:jpg|jpeg|png|webp|gif)$")


def embedded_picture(path: Path) -> bytes | None:
    """Bytes of the front cover (else first picture) embedded in an audio file, or None."""
    try:
        f = mutagen.File(path)
    except Exception:  # an unreadable tag is "no picture", not a server error
        return None
    if f is None:
        return None
    pics: list[tuple[int, bytes]] = []
    if hasattr(f, "pictures"):  # FLAC
        pics += [(p.type, p.data) for p in f.pictures]
    tags = f.tags
    if tags is not None:
        if hasattr(tags, "getall"):  # ID3
            pics += [(p.type, p.data) for p in tags.getall("APIC")]
        elif "covr" in tags:  # MP4
            pics += [(3, bytes(c)) for c in tags["covr"]]
        else:  # Vorbis comments (Ogg Vorbis / Opus)
            for b64 in tags.get("metadata_block_picture", []) or []:
                try:
                    p = Picture(base64.b64decode(b64))
                except Exception:
                    continue
                pics.append((p.type, p.data))
    pics = [p for p in pics if p[1] and len(p[1]) <= MAX_SOURCE_BYTES]
    if not pics:
        return None
    pics.sort(key=lambda p: p[0] != 3)  # type 3 = front cover
    return pics[0][1]


class CoverArt:
    """Finds and resizes covers, keeping the most recent results in memory."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self._cache: OrderedDict[tuple[str, str, int | None], tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def album_art_file(self, album_id: str) -> bytes | None:
        """The album's image from the album-art collection, when present here."""
        row = self.lib.one("SELECT path FROM album_image WHERE album_id = ?", (album_id,))
        if row is None or not _ART_RE.match(row[0]):
            return None
        archive = self.lib.archive
        for folder in (archive.release_dir / "album_art", archive.files_dir / "album_art"):
            path = folder / row[0]
            if path.is_file() and path.stat().st_size <= MAX_SOURCE_BYTES:
                return path.read_bytes()
        return None

    def source(self, kind: str, raw: str) -> bytes | None:
        """Original picture bytes for an album (al), song (tr) or artist (ar), or None."""
        lib = self.lib
        if kind == "tr":
            songs = [lib.song(raw)]
        elif kind == "al":
            lib.album(raw)
            art = self.album_art_file(raw)
            if art is not None:
                return art
            songs = lib.album_songs(raw)
        elif kind == "ar":
            lib.artist(raw)
            albums = lib.artist_albums(raw)
            songs = lib.album_songs(albums[0]["id"]) if albums else []
        else:
            return None
        for s in songs:
            path = lib.file_path(s)
            if path is not None and path.is_file():
                data = embedded_picture(path)
                if data:
                    return data
        return None

    def get(self, kind: str, raw: str, size: int | None) -> tuple[bytes, str] | None:
        """(image bytes, media type) at most ``size`` pixels on the long side, or None."""
        key = (kind, raw, size)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        data = self.source(kind, raw)
        if data is None:
            return None
        result = _resize(data, size)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return result


def _resize(data: bytes, size: int | None) -> tuple[bytes, str]:
    try:
        img = Image.open(io.BytesIO(data))
        fmt = (img.format or "JPEG").upper()
        if size is None or max(img.size) <= size:
            return data, Image.MIME.get(fmt, "image/jpeg")
        img.thumbnail((size, size))
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=88)
        return buf.getvalue(), "image/jpeg"
    except Exception:  # not an image Pillow knows: hand it over unchanged
        return data, "application/octet-stream"
