"""Read access to the library tables and the archive's files, and the Subsonic shapes of their rows."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from musark.archive import Archive
from musark.ids import is_valid_id
from musark.serve import subsonic_ids as sid
from musark.serve.dbconn import PerThread
from musark.serve.errors import not_found
from musark.serve.library_db import library_path
from musark.serve.state import iso

CONTENT_TYPES = {
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "oga": "audio/ogg",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
}
_FILE_RE = re.compile(r"^data/([A-Za-z0-9_-]{1,64})\.([a-z0-9]{1,8})$")


class Library:
    """The library tables (read-only, one connection per thread) and file lookups."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.files_root = archive.files_dir.resolve()
        self._db = PerThread(f"file:{library_path(archive)}?mode=ro", uri=True, rows=True)

    def con(self) -> sqlite3.Connection:
        """This thread's read-only connection; rows are sqlite3.Row."""
        return self._db.get()

    def one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        """First row of a query."""
        return self.con().execute(sql, args).fetchone()

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Every row of a query."""
        return self.con().execute(sql, args).fetchall()

    # files
    def file_path(self, song: sqlite3.Row) -> Path | None:
        """Where the song's file would be in this archive, or None when it has no valid file entry."""
        batch, rel = song["batch"], song["path"]
        if not batch or not rel or not is_valid_id(batch):
            return None
        m = _FILE_RE.match(rel)
        if m is None or m.group(1) != song["id"]:
            return None
        # The id and path regexes above forbid separators and dots: no way out of files/.
        return self.files_root / batch / rel

    def present(self, song: sqlite3.Row) -> bool:
        """True when the song's file is in this archive or mirror."""
        path = self.file_path(song)
        return path is not None and os.path.isfile(path)

    # lookups
    def _one(self, table: str, raw_id: str, what: str, prefix: str) -> sqlite3.Row:
        row = self.one(f"SELECT * FROM {table} WHERE id = ?", (raw_id,))
        if row is None:
            raise not_found(what, sid.make(prefix, raw_id))
        return row

    def _many(self, table: str, raw_ids: Sequence[str]) -> list[sqlite3.Row]:
        rows: dict[str, sqlite3.Row] = {}
        ids = list(dict.fromkeys(raw_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.all(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
                rows[r["id"]] = r
        return [rows[i] for i in raw_ids if i in rows]

    def song(self, raw_id: str) -> sqlite3.Row:
        """Song row by catalogue id; error 70 when unknown."""
        return self._one("song", raw_id, "Song", "tr")

    def songs(self, raw_ids: Sequence[str]) -> list[sqlite3.Row]:
        """Song rows in the order of ``raw_ids`` (unknown ids skipped)."""
        return self._many("song", raw_ids)

    def album(self, raw_id: str) -> sqlite3.Row:
        """Album row; error 70 when unknown."""
        return self._one("album", raw_id, "Album", "al")

    def albums(self, raw_ids: Sequence[str]) -> list[sqlite3.Row]:
        """Album rows in the order of ``raw_ids`` (unknown skipped)."""
        return self._many("album", raw_ids)

    def artist(self, raw_id: str) -> sqlite3.Row:
        """Artist row; error 70 when unknown."""
        return self._one("artist", raw_id, "Artist", "ar")

    def artists(self, raw_ids: Sequence[str]) -> list[sqlite3.Row]:
        """Artist rows in the order of ``raw_ids`` (unknown skipped)."""
        return self._many("artist", raw_ids)

    def album_songs(self, raw_id: str) -> list[sqlite3.Row]:
        """Songs of an album in disc/track order."""
        return self.all("SELECT * FROM song WHERE album_id = ? ORDER BY disc, track, id", (raw_id,))

    def artist_albums(self, raw_id: str) -> list[sqlite3.Row]:
        """Albums an artist appears on, oldest first."""
        return self.all(
            "SELECT a.* FROM artist_album aa JOIN album a ON a.id = aa.album_id "
            "WHERE aa.artist_id = ? ORDER BY a.year, a.name COLLATE NOCASE",
            (raw_id,),
        )

    def count(self, table: str) -> int:
        """Rows in one of the library tables (artist, album, song)."""
        assert table in ("artist", "album", "song", "genre")
        row = self.one(f"SELECT max(seq) FROM {table}") if table != "genre" else None
        if table == "genre":
            return int(self.one("SELECT count(*) FROM genre")[0])
        return int(row[0] or 0) if row else 0


def song_child(
    lib: Library,
    s: sqlite3.Row,
    *,
    starred: int | None = None,
    plays: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """A song as a Subsonic ``child`` with OpenSubsonic fields and ``musarkAvailable``."""
    path = lib.file_path(s)
    suffix = path.suffix.lstrip(".") if path is not None else None
    available = path is not None and os.path.isfile(path)
    child: dict[str, Any] = {
        "id": sid.make("tr", s["id"]),
        "parent": sid.make("al", s["album_id"]) if s["album_id"] else None,
        "isDir": False,
        "title": s["title"],
        "album": s["album"],
        "artist": s["artist"],
        "track": s["track"],
        "discNumber": s["disc"],
        "year": s["year"],
        "genre": s["genre"],
        "coverArt": sid.make("al", s["album_id"]) if s["album_id"] else sid.make("tr", s["id"]),
        "size": s["size"],
        "contentType": CONTENT_TYPES.get(suffix or "", "application/octet-stream")
        if suffix
        else None,
        "suffix": suffix,
        "duration": s["duration"],
        "bitRate": s["kbps"],
        "path": f"{s['batch']}/{s['path']}" if path is not None else None,
        "albumId": sid.make("al", s["album_id"]) if s["album_id"] else None,
        "artistId": sid.make("ar", s["artist_id"]) if s["artist_id"] else None,
        "type": "music",
        "mediaType": "song",
        "isVideo": False,
        "playCount": plays[0] if plays else 0,
        "played": iso(plays[1]) if plays else None,
        "starred": iso(starred),
        "explicitStatus": ("explicit" if s["explicit"] else "clean")
        if s["explicit"] is not None
        else None,
        "genres": [{"name": s["genre"]}] if s["genre"] else [],
        "musarkAvailable": available,
    }
    return child


def _created(release_date: str | None) -> str:
    """The album's release date as a date-time (the index has no "added" time)."""
    date = (release_date or "")[:10]
    parts = date.split("-")
    if len(parts) == 3 and all(x.isdigit() for x in parts):
        return f"{date}T00:00:00.000Z"
    if len(parts) >= 1 and parts[0].isdigit() and len(parts[0]) == 4:
        return f"{parts[0]}-01-01T00:00:00.000Z"
    return "1970-01-01T00:00:00.000Z"


def album_entry(
    a: sqlite3.Row, *, starred: int | None = None, as_dir: bool = False
) -> dict[str, Any]:
    """An album as an ID3 ``album`` (or, ``as_dir``, a directory ``child``)."""
    entry: dict[str, Any] = {
        "id": sid.make("al", a["id"]),
        "name": a["name"],
        "artist": a["artist"],
        "artistId": sid.make("ar", a["artist_id"]) if a["artist_id"] else None,
        "coverArt": sid.make("al", a["id"]),
        "songCount": a["song_count"],
        "duration": a["duration"],
        "created": _created(a["release_date"]),
        "year": a["year"],
        "genre": a["genre"],
        "starred": iso(starred),
        "genres": [{"name": a["genre"]}] if a["genre"] else [],
        "recordLabels": [{"name": a["label"]}] if a["label"] else [],
    }
    if as_dir:
        entry.update(
            {
                "parent": entry["artistId"],
                "isDir": True,
                "title": a["name"],
                "album": a["name"],
            }
        )
    return entry


def artist_entry(ar: sqlite3.Row, *, starred: int | None = None) -> dict[str, Any]:
    """An artist as an ID3 ``artist``."""
    return {
        "id": sid.make("ar", ar["id"]),
        "name": ar["name"],
        "albumCount": ar["album_count"],
        "coverArt": sid.make("ar", ar["id"]),
        "starred": iso(starred),
    }
