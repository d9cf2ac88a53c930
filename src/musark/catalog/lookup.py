"""Point lookups of tracks by id or ISRC, served by DuckDB ART indexes.

Ingest keeps an ART index on ``tracks(id)`` and on the ``isrc_tracks(isrc)`` side table; an
ISRC lookup is one probe of the ISRC index then one id probe per track carrying it.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.catalog.validate import ISRC_RE
from musark.ids import is_valid_id

# An equality with a *literal* on the indexed column: DuckDB plans an index scan for constants but
# a sequential scan for a prepared parameter, so keys are validated and inlined instead.
_TRACK_SQL = """
    SELECT id, name, album_id, track_number, disc_number, duration_ms, explicit, isrc,
           popularity, streams, fetched_at, source
    FROM tracks WHERE id = '{key}'"""
_ISRC_RE = re.compile(ISRC_RE)


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
            if not is_valid_id(track_id):
                continue
            cur = self.con.execute(_TRACK_SQL.format(key=track_id))
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
        if not _ISRC_RE.fullmatch(norm):
            return []
        ids = [
            r[0]
            for r in self.con.execute(
                f"SELECT track_id FROM isrc_tracks WHERE isrc = '{norm}' ORDER BY track_id"
            ).fetchall()
        ]
        return self._rows(ids)
