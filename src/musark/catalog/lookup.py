"""Point lookups of tracks by id or ISRC, served by DuckDB ART indexes.

Ingest keeps an ART index on ``tracks(id)`` and on the ``isrc_tracks(isrc)`` side table. DuckDB
(≥ 1.2) scans an index for an equality or an IN list on the indexed column whether the keys are
literals or prepared parameters, so every lookup is a prepared-parameter query: ``by_id`` is one
query, ``by_isrc`` two (the ISRC's track ids, then all their rows at once), whatever the number
of tracks sharing the ISRC.

Almost all of a lookup's cost is per statement, not per row: parsing, binding and planning a
query cost more than the index probe and the row fetch. Hence the statements are parsed once, the
connection runs one thread (a point query has nothing to parallelise, and handing it to a worker
thread only adds latency) and the rows come back with ``fetchall``.
"""

from __future__ import annotations

from typing import Any

import duckdb

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.ids import is_valid_id
from musark.index.query import normalize_isrc

COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "album_id",
    "track_number",
    "disc_number",
    "duration_ms",
    "explicit",
    "isrc",
    "popularity",
    "streams",
    "fetched_at",
    "source",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM tracks"
_BY_ID = f"{_SELECT} WHERE id = $1"
# DuckDB rewrites list_contains over a constant list into an IN list, which it answers with the
# ART index; one statement then serves any number of ids.
_BY_IDS = f"{_SELECT} WHERE list_contains($1::VARCHAR[], id) ORDER BY id"
_IDS_OF_ISRC = "SELECT track_id FROM isrc_tracks WHERE isrc = $1"
# warm(): one key per _WARM_STRIDE rows (an ART buffer holds a few thousand keys), probed in IN
# lists no longer than DuckDB's index_scan_max_count (2048), above which it scans the table.
_WARM_STRIDE = 1000
_WARM_PROBES = 2000


class TrackLookup:
    """A read-only catalogue connection answering track lookups by id and by ISRC."""

    def __init__(self, archive: Archive) -> None:
        self.con: duckdb.DuckDBPyConnection = connect(archive.catalog_db, read_only=True)
        self.con.execute("SET threads = 1")
        self._by_id, self._by_ids, self._ids_of_isrc = (
            self.con.extract_statements(sql)[0] for sql in (_BY_ID, _BY_IDS, _IDS_OF_ISRC)
        )

    def warm(self) -> None:
        """Load what lookups read into DuckDB's buffer pool, as a long-running server has it."""
        # The looked-up columns in full, then the two ART indexes, which DuckDB loads a buffer at
        # a time as probes reach it: one IN-list probe of keys spread evenly over each index
        # touches them all. The buffer pool stays within DuckDB's memory_limit whatever the size.
        self.con.execute(f"SELECT bit_xor(hash({', '.join(COLUMNS)})) FROM tracks").fetchall()
        self.con.execute("SELECT bit_xor(hash(isrc, track_id)) FROM isrc_tracks").fetchall()
        for table, key in (("tracks", "id"), ("isrc_tracks", "isrc")):
            keys = self.con.execute(
                f"SELECT list({key}) FROM {table} WHERE rowid % {_WARM_STRIDE} = 0"
            ).fetchall()[0][0]
            for i in range(0, len(keys or []), _WARM_PROBES):
                self.con.execute(
                    f"SELECT count(*) FROM {table} WHERE list_contains($1::VARCHAR[], {key})",
                    [keys[i : i + _WARM_PROBES]],
                ).fetchall()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> TrackLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def by_id(self, track_id: str) -> dict[str, Any] | None:
        """The track with this id, or None."""
        if not is_valid_id(track_id):
            return None
        rows = self.con.execute(self._by_id, [track_id]).fetchall()
        return dict(zip(COLUMNS, rows[0], strict=True)) if rows else None

    def by_isrc(self, isrc: str) -> list[dict[str, Any]]:
        """Every track carrying this ISRC (normalised as the published index does), in id order."""
        norm = normalize_isrc(isrc)
        if norm is None:
            return []
        ids = [r[0] for r in self.con.execute(self._ids_of_isrc, [norm]).fetchall()]
        if not ids:
            return []
        if len(ids) == 1:
            rows = self.con.execute(self._by_id, ids).fetchall()
        else:
            rows = self.con.execute(self._by_ids, [ids]).fetchall()
        return [dict(zip(COLUMNS, r, strict=True)) for r in rows]
