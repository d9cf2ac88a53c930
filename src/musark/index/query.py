"""Read-only queries on the published index: by track id, ISRC, UPC or free text ("artist - title").

Every lookup but free text is one indexed equality query. Free text runs on an FTS5 table kept
next to the index in ``state/`` (see ``musark.index.textsearch``), built on first use.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from musark.ids import is_valid_id

ISRC_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
UPC_RE = re.compile(r"^[0-9]{8,14}$")
_CHUNK = 500  # stays under SQLite's host-parameter limit


@dataclass(frozen=True)
class TrackHit:
    """One catalogued track and, when archived, where its file is (batch, torrent, index, digest)."""

    track_id: str
    title: str
    artists: str
    album: str | None
    isrc: str | None
    upc: str | None
    batch: str | None
    path: str | None
    file_index: int | None
    size: int | None
    sha256: str | None
    btih: str | None
    magnet_link: str | None
    torrent_path: str | None

    @property
    def archived(self) -> bool:
        """True when the track has a file in a released batch."""
        return self.batch is not None

    @property
    def file_magnet(self) -> str | None:
        """Magnet selecting only this file (BEP 53 ``so=``)."""
        if self.magnet_link is None or self.file_index is None:
            return None
        return f"{self.magnet_link}&so={self.file_index}"

    def indexed_file(self) -> IndexedFile:
        """The file record of an archived track (raises ValueError for an unarchived one)."""
        if self.batch is None or self.path is None or self.file_index is None:
            raise ValueError(f"track {self.track_id}: not in any released batch")
        return IndexedFile(
            self.track_id, self.batch, self.path, self.file_index, self.size or 0, self.sha256 or ""
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output, including the file magnet."""
        return {**asdict(self), "file_magnet": self.file_magnet}


@dataclass(frozen=True)
class IndexedFile:
    """One released file as the index records it."""

    track_id: str
    batch: str
    path: str
    file_index: int
    size: int
    sha256: str


_SELECT = """
SELECT t.id AS track_id, t.name AS title, t.isrc AS isrc, al.name AS album, al.upc AS upc,
  coalesce((SELECT group_concat(name, ', ') FROM (
      SELECT a.name AS name FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
      WHERE ta.track_id = t.id ORDER BY ta.position)), '') AS artists,
  f.batch AS batch, f.path AS path, f.file_index_in_torrent AS file_index, f.size AS size,
  f.sha256 AS sha256, tr.btih AS btih, tr.magnet_link AS magnet_link, tr.torrent_path AS torrent_path
FROM tracks t
LEFT JOIN albums al ON al.id = t.album_id
LEFT JOIN track_files f ON f.track_id = t.id
LEFT JOIN torrents tr ON tr.name = f.batch
"""


def _hits(con: sqlite3.Connection, where: str, params: Iterable[Any]) -> list[TrackHit]:
    cur = con.execute(f"{_SELECT} WHERE {where}", tuple(params))
    names = [d[0] for d in cur.description]
    return [TrackHit(**dict(zip(names, row, strict=True))) for row in cur]


def normalize_isrc(text: str) -> str | None:
    """Return ``text`` as a canonical ISRC (upper case, no separators), or None if it is not one."""
    s = re.sub(r"[\s\-_.]", "", text.strip()).upper()
    if s.startswith("ISRC:"):
        s = s[5:]
    return s if ISRC_RE.match(s) else None


def upc_variants(text: str) -> list[str] | None:
    """Return the spellings of a UPC/EAN (8–14 digits, with or without leading zeros), or None."""
    s = re.sub(r"[\s\-]", "", text.strip())
    if not UPC_RE.match(s):
        return None
    core = s.lstrip("0") or "0"
    return sorted({s, core, *(core.zfill(n) for n in (12, 13, 14) if len(core) <= n)})


def by_track_ids(con: sqlite3.Connection, ids: Iterable[str]) -> list[TrackHit]:
    """Tracks with these ids (unknown ids are skipped), in the order given."""
    wanted = [i for i in dict.fromkeys(ids) if is_valid_id(i)]
    found: dict[str, TrackHit] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        for hit in _hits(con, f"t.id IN ({','.join('?' * len(part))})", part):
            found[hit.track_id] = hit
    return [found[i] for i in wanted if i in found]


def by_isrc(con: sqlite3.Connection, isrc: str) -> list[TrackHit]:
    """Tracks recorded with this ISRC (normalised first); archived ones first."""
    norm = normalize_isrc(isrc)
    if norm is None:
        return []
    return _hits(con, "t.isrc = ? ORDER BY f.batch IS NULL, t.popularity DESC, t.id", [norm])


def by_upc(con: sqlite3.Connection, upc: str) -> list[TrackHit]:
    """All tracks of the album(s) with this UPC/EAN, in disc and track order."""
    variants = upc_variants(upc)
    if not variants:
        return []
    album_ids = [
        r[0]
        for r in con.execute(
            f"SELECT id FROM albums WHERE upc IN ({','.join('?' * len(variants))})", variants
        )
    ]
    if not album_ids:
        return []
    marks = ",".join("?" * len(album_ids))
    return _hits(
        con,
        f"t.album_id IN ({marks}) ORDER BY t.album_id, t.disc_number, t.track_number, t.id",
        album_ids,
    )


def find_tracks(
    con: sqlite3.Connection,
    query: str,
    text_search: Callable[[str, int], list[str]] | None = None,
    limit: int = 20,
) -> tuple[str, list[TrackHit]]:
    """Resolve one query as an exact track id, an ISRC, a UPC, then free text; return (kind, hits)."""
    q = query.strip()
    if not q:
        return "empty", []
    if is_valid_id(q) and (hits := by_track_ids(con, [q])):
        return "id", hits
    if normalize_isrc(q) and (hits := by_isrc(con, q)):
        return "isrc", hits
    if upc_variants(q) and (hits := by_upc(con, q)):
        return "upc", hits
    if text_search is None:
        return "text", []
    return "text", by_track_ids(con, text_search(q, limit))


def batches(con: sqlite3.Connection) -> list[str]:
    """Names of every batch that has files in the index."""
    return [r[0] for r in con.execute("SELECT DISTINCT batch FROM track_files ORDER BY batch")]


def batch_files(con: sqlite3.Connection, batch: str) -> Iterator[IndexedFile]:
    """Every file the index records for ``batch``, in torrent order."""
    cur = con.execute(
        "SELECT track_id, batch, path, file_index_in_torrent, size, sha256 FROM track_files "
        "WHERE batch = ? ORDER BY file_index_in_torrent",
        (batch,),
    )
    for row in cur:
        yield IndexedFile(*row)


def torrent_row(con: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    """The ``torrents`` row of one torrent (a batch name), or None."""
    cur = con.execute(
        "SELECT name, kind, btih, btmh, magnet_link, torrent_path FROM torrents WHERE name = ?",
        (name,),
    )
    cur.row_factory = sqlite3.Row
    return cur.fetchone()
