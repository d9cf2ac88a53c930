"""Point lookups of tracks by id or ISRC, served by DuckDB ART indexes.

Ingest keeps an ART index on ``tracks(id)`` and on the ``isrc_tracks(isrc)`` side table. DuckDB
2.0 answers an equality or an IN list on an indexed column with an index scan whether the keys
are literals or prepared parameters, so ``by_id`` is one prepared query and ``by_isrc`` two (the
ISRC's track ids, then all their rows in one IN list), whatever the number of tracks sharing it.

A lookup's cost is almost all per statement and per fetched row, not in the index probe: parsing,
binding and planning, then fetching a row's twelve compressed columns. So the statements are
parsed once, planned with only the optimizer passes an index scan needs, on one thread (a point
query has nothing to parallelise); ``warm()`` loads the columns and indexes a long-running server
would already hold, so that no lookup pays for reading blocks.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import duckdb

from musark.archive import Archive
from musark.ids import is_valid_id
from musark.index.query import normalize_isrc

# The tracks row a lookup returns (every column but the ingest-internal record_hash).
COLUMNS: tuple[str, ...] = (
    "id", "name", "album_id", "track_number", "disc_number", "duration_ms", "explicit", "isrc",
    "popularity", "streams", "fetched_at", "source",
)  # fmt: skip
_ID = itemgetter(0)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM tracks"
# Up to this many ids a lookup is `id IN ($1, ..., $n)`, one parsed statement per n; beyond, list
# parameters (`list_contains`, which DuckDB rewrites into the same IN list, a little slower) of at
# most _MAX_PROBES ids: DuckDB scans the table instead of the index when a scan would match more
# than index_scan_max_count (2048) rows. Rows are sorted by id in Python: for a handful of rows
# cheaper than a sort operator.
_MAX_IN_PARAMS = 16
_MAX_PROBES = 2000
_IDS_OF_ISRC = "SELECT track_id FROM isrc_tracks WHERE isrc = $1"
# The optimizer passes a point query needs to become an ART index scan (the filter pushed into
# the scan, list_contains rewritten to IN); planning a lookup with all ~45 passes costs a third
# of its time. Every other pass is disabled on the lookup's private connection.
_PLANNER_KEEPS = ("filter_pushdown", "expression_rewriter")
# warm(): one key per _WARM_STRIDE rows (an ART buffer holds a few thousand keys), probed in IN
# lists short enough that their matches (an ISRC may have several tracks) stay under 2048.
_WARM_STRIDE = 1000
_WARM_PROBES = 500


class TrackLookup:
    """A read-only catalogue connection answering track lookups by id and by ISRC."""

    def __init__(self, archive: Archive) -> None:
        db = archive.catalog_db
        if not db.exists():
            raise FileNotFoundError(f"{db}: no catalogue here; run `musark ingest` first")
        # A private in-memory instance that attaches the catalogue: its settings (one thread, a
        # reduced optimizer) cannot reach another connection of this process to the same file,
        # which DuckDB's instance cache would otherwise share with it.
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(config={"threads": 1})
        path = str(db).replace("'", "''")
        self.con.execute(f"ATTACH '{path}' AS catalog (READ_ONLY)")
        self.con.execute("USE catalog")
        self._plan_for_lookups()
        self._by_ids: dict[int, duckdb.Statement] = {}
        self._ids_of_isrc = self._parse(_IDS_OF_ISRC)
        self._by_list = self._parse(f"{_SELECT} WHERE list_contains($1::VARCHAR[], id)")

    def _plan_for_lookups(self) -> None:
        optimizers = self.con.execute("SELECT name FROM duckdb_optimizers()").fetchall()
        skipped = ",".join(o for (o,) in optimizers if o not in _PLANNER_KEEPS)
        self.con.execute(f"SET disabled_optimizers = '{skipped}'")
        self.con.execute("SET threads = 1")

    def _parse(self, sql: str) -> duckdb.Statement:
        return self.con.extract_statements(sql)[0]

    def _rows(self, ids: list[str]) -> list[tuple]:
        """The rows of these track ids, in id order."""
        n = len(ids)
        if n > _MAX_IN_PARAMS:
            chunks = (ids[i : i + _MAX_PROBES] for i in range(0, n, _MAX_PROBES))
            rows = [r for c in chunks for r in self.con.execute(self._by_list, [c]).fetchall()]
            return sorted(rows, key=_ID)
        if n not in self._by_ids:
            marks = ", ".join(f"${i}" for i in range(1, n + 1))
            self._by_ids[n] = self._parse(f"{_SELECT} WHERE id IN ({marks})")
        rows = self.con.execute(self._by_ids[n], ids).fetchall()
        return sorted(rows, key=_ID) if n > 1 else rows

    def warm(self) -> None:
        """Load what lookups read into DuckDB's buffer pool, as a long-running server has it."""
        # The looked-up columns in full, then the two ART indexes, which DuckDB loads a buffer at
        # a time as probes reach it: IN-list probes of keys spread evenly over each index touch
        # them all. The buffer pool stays within DuckDB's memory_limit whatever the size. These
        # scans want every core and the whole optimizer (a reduced one plans a 2M-row scan
        # against a long IN list as a per-row list search).
        self.con.execute("RESET disabled_optimizers")
        self.con.execute("RESET threads")
        try:
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
        finally:
            self._plan_for_lookups()

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
        rows = self._rows([track_id])
        return dict(zip(COLUMNS, rows[0], strict=True)) if rows else None

    def by_isrc(self, isrc: str) -> list[dict[str, Any]]:
        """Every track carrying this ISRC (normalised as the published index does), in id order."""
        norm = normalize_isrc(isrc)
        if norm is None:
            return []
        ids = [r[0] for r in self.con.execute(self._ids_of_isrc, [norm]).fetchall()]
        return [dict(zip(COLUMNS, r, strict=True)) for r in self._rows(ids)] if ids else []
