"""Point lookups of tracks by id or ISRC, served by DuckDB ART indexes.

Ingest keeps an ART index on ``tracks(id)`` and on the ``isrc_tracks(isrc)`` side table (both
also inserted in key order, so zonemaps prune too); an ISRC lookup is one probe of the ISRC index
then one id probe per track carrying it.
"""

from __future__ import annotations

from typing import Any

import duckdb

from musark.archive import Archive
from musark.catalog.schema import connect

# an equality on the indexed column: DuckDB answers it from the ART index
_TRACK_SQL = """
    SELECT id, name, album_id, track_number, disc_number, duration_ms, explicit, isrc,
           popularity, streams, fetched_at, source
    FROM tracks WHERE id = ?"""


class TrackLookup:
    """A read-only catalogue connection answering track lookups by id and by ISRC."""

    def __init__(self, archive: Archive) -> None:
        self.con: duckdb.DuckDBPyConnection = connect(archive.catalog_db, read_only=True)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> TrackLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, ids: list[str]) -> list[dict[str, Any]]:
        found = []
        for track_id in ids:  # one index probe each: an IN list would scan the table
            cur = self.con.execute(_TRACK_SQL, [track_id])
            cols = [d[0] for d in cur.description]
            found.extend(dict(zip(cols, r, strict=True)) for r in cur.fetchall())
        return found

    def by_id(self, track_id: str) -> dict[str, Any] | None:
        """The track with this id, or None."""
        rows = self._rows([track_id])
        return rows[0] if rows else None

    def by_isrc(self, isrc: str) -> list[dict[str, Any]]:
        """Every track carrying this ISRC (dashes/case normalised)."""
        norm = isrc.replace("-", "").replace(" ", "").upper()
        ids = [
            r[0]
            for r in self.con.execute(
                "SELECT track_id FROM isrc_tracks WHERE isrc = ? ORDER BY track_id", [norm]
            ).fetchall()
        ]
        return self._rows(ids)
