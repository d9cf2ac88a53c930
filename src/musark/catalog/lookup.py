"""Point lookups of tracks by id or ISRC, served by sorted storage and DuckDB zonemaps.

Ingest inserts ``tracks`` sorted by id and ``isrc_tracks`` sorted by ISRC, so each row group's
min/max statistics cover a narrow key range and an equality filter reads one row group instead of
the table: no index to hold in memory at 256 M rows. An ISRC lookup is two such probes.
"""

from __future__ import annotations

from typing import Any

import duckdb

from musark.archive import Archive
from musark.catalog.schema import connect

_TRACK_SQL = """
    SELECT t.id, t.name, t.album_id, t.track_number, t.disc_number, t.duration_ms, t.explicit,
           t.isrc, t.popularity, t.streams, t.fetched_at, t.source
    FROM tracks t WHERE t.id IN (SELECT unnest(?::VARCHAR[]))"""


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
        if not ids:
            return []
        if len(ids) == 1:
            cur = self.con.execute(
                _TRACK_SQL.replace("IN (SELECT unnest(?::VARCHAR[]))", "= ?"), ids
            )
        else:
            cur = self.con.execute(_TRACK_SQL + " ORDER BY t.id", [ids])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

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
