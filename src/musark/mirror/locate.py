"""Locate tracks in a mirror's published index: where each file is and how to fetch only it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from musark.archive import Archive
from musark.index.open import open_index
from musark.index.query import TrackHit, find_tracks
from musark.index.textsearch import TextSearch


@dataclass
class LocateReport:
    """Hits for one query, and how it was read (id, isrc, upc or text)."""

    query: str
    kind: str
    hits: list[TrackHit]
    archive: Archive

    @property
    def ok(self) -> bool:
        """True when the query matched at least one track."""
        return bool(self.hits)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output; ``present`` says whether the file is in this mirror."""
        return {
            "query": self.query,
            "kind": self.kind,
            "count": len(self.hits),
            "hits": [{**h.as_dict(), "present": self.present(h)} for h in self.hits],
        }

    def present(self, hit: TrackHit) -> bool:
        """True when the file is in this mirror with the recorded size (verify checks content)."""
        if not hit.archived:
            return False
        path = self.archive.batch_dir(hit.batch) / hit.path  # type: ignore[arg-type]
        return path.is_file() and path.stat().st_size == hit.size


def locate(archive: Archive, query: str, limit: int = 20) -> LocateReport:
    """Resolve ``query`` (track id, ISRC, UPC or 'artist - title') against the published index."""
    con = open_index(archive)
    try:
        kind, hits = find_tracks(con, query, TextSearch(archive), limit=limit)
    finally:
        con.close()
    return LocateReport(query, kind, hits[:limit] if kind == "text" else hits, archive)
