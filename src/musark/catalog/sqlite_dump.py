"""SQLite dumps in the rowid-keyed layout of the largest public music metadata dump (docs/catalog.md).

Tables are streamed out of SQLite as Arrow batches by the ADBC SQLite driver (no Python per row).
Every column is read as bytes, so invalid UTF-8 is caught by DuckDB rather than silently replaced;
albums, artists and link tables are copied once into DuckDB temp tables (which spill to disk), and
tracks are then joined to them chunk by chunk in rowid order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import adbc_driver_sqlite.dbapi as adbc_sqlite
import duckdb
import pyarrow as pa

from musark.catalog.validate import ORD_SHIFT, stage_chunk

# table -> columns musark reads (any of them may be missing in a given dump; they read as NULL)
LAYOUT: dict[str, tuple[str, ...]] = {
    "artists": ("id", "fetched_at", "name", "followers_total", "popularity"),
    "artist_genres": ("artist_rowid", "genre"),
    "albums": (
        "id", "fetched_at", "name", "album_type", "external_id_upc", "copyright_c",
        "copyright_p", "label", "popularity", "release_date", "release_date_precision",
        "total_tracks",
    ),
    "album_images": ("album_rowid", "width", "height", "url"),
    "tracks": (
        "id", "fetched_at", "name", "album_rowid", "track_number", "external_id_isrc",
        "popularity", "disc_number", "duration_ms", "explicit", "streams",
    ),
    "track_artists": ("track_rowid", "artist_rowid"),
}  # fmt: skip
REQUIRED_TABLES = ("tracks", "albums", "artists", "track_artists")
_INT_COLS = {"artist_rowid", "album_rowid", "track_rowid"}


def _columns(db: Path) -> dict[str, set[str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as s:
        tables = {r[0] for r in s.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise ValueError(f"{db}: not a catalogue dump (missing tables: {', '.join(missing)})")
        return {
            t: {r[1] for r in s.execute(f"PRAGMA table_info({t})")} for t in LAYOUT if t in tables
        }


def _select(table: str, have: set[str]) -> str:
    """SQLite query reading a table as bytes (empty bytes for NULL keep ADBC's types stable)."""
    cols = ["rowid AS _rowid"]
    for c in LAYOUT[table]:
        if c not in have:
            cols.append(f"X'' AS {c}")
        elif c in _INT_COLS:
            cols.append(f"coalesce(CAST({c} AS INTEGER), -1) AS {c}")
        else:
            cols.append(f"coalesce(CAST({c} AS BLOB), X'') AS {c}")
    return f"SELECT {', '.join(cols)} FROM {table}"


def _dec(col: str) -> str:
    return f"nullif(coalesce(try(decode({col})), ''), '')"


def _utf8_ok(cols: tuple[str, ...], prefix: str = "") -> str:
    parts = [
        f"(octet_length({prefix}{c}) = 0 OR try(decode({prefix}{c})) IS NOT NULL)"
        for c in cols
        if c not in _INT_COLS
    ]
    return " AND ".join(parts) or "true"


def _copy(con: duckdb.DuckDBPyConnection, db, table: str, have: set[str], order: str) -> None:
    cur = db.cursor()
    try:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
        cur.execute(_select(table, have))
        reader = cur.fetch_record_batch()
        # an empty table comes back with guessed (integer) types: view such columns as bytes
        blob = {f.name for f in reader.schema if pa.types.is_binary(f.type)}
        cols = ", ".join(
            c if c in blob or c in _INT_COLS or c == "_rowid" else f"encode({c}::VARCHAR) AS {c}"
            for c in ("_rowid", *LAYOUT[table])
        )
        con.register("_sq_reader_raw", reader)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _sq_reader AS SELECT {cols} FROM _sq_reader_raw")
        text = [c for c in LAYOUT[table] if c not in _INT_COLS]
        decoded = ", ".join(
            [f"{c}" for c in LAYOUT[table] if c in _INT_COLS] + [f"{_dec(c)} AS {c}" for c in text]
        )
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE sq_{table} AS
            SELECT _rowid, {decoded}, {_utf8_ok(LAYOUT[table])} AS utf8_ok
            FROM _sq_reader ORDER BY {order}""")
    finally:
        con.execute("DROP VIEW IF EXISTS _sq_reader")
        con.unregister("_sq_reader_raw")
        cur.close()


def _track_sql(db_path: str, source_no: int, lo: int, hi: int) -> str:
    src = db_path.replace("'", "''")
    return f"""
    WITH ta AS (
        SELECT l.track_rowid, list(struct_pack(
                id := a.id, name := a.name, followers := a.followers_total,
                popularity := a.popularity, genres := g.genres) ORDER BY l._rowid) AS artists,
            bool_and(coalesce(a.utf8_ok, true) AND l.artist_rowid >= 0) AS ok
        FROM sq_track_artists l
        LEFT JOIN sq_artists a ON a._rowid = l.artist_rowid
        LEFT JOIN sq_genres g ON g.artist_rowid = l.artist_rowid
        WHERE l.track_rowid BETWEEN {lo} AND {hi}
        GROUP BY l.track_rowid
    )
    SELECT {source_no}::BIGINT * {ORD_SHIFT} + t._rowid AS ord, '{src}' AS source,
        t._rowid::VARCHAR AS locator,
        json_object('rowid', t._rowid, 'id', t.id, 'name', t.name, 'album_rowid', t.album_rowid,
                    'external_id_isrc', t.external_id_isrc, 'duration_ms', t.duration_ms,
                    'popularity', t.popularity, 'fetched_at', t.fetched_at)::VARCHAR AS raw,
        CASE WHEN NOT (t.utf8_ok AND coalesce(al.utf8_ok, true) AND coalesce(ta.ok, true))
             THEN 'invalid_utf8' END AS pre_reason,
        t.id, t.name, al.id AS album_id, al.name AS album_name, al.album_type, al.label,
        al.copyright_c, al.copyright_p, al.external_id_upc AS upc, al.release_date,
        al.release_date_precision, al.total_tracks, al.popularity AS album_popularity,
        t.track_number, t.disc_number, t.duration_ms,
        CASE t.explicit WHEN '1' THEN 'true' WHEN '0' THEN 'false' ELSE t.explicit END AS explicit,
        t.external_id_isrc AS isrc, t.popularity, t.streams,
        coalesce(t.fetched_at, al.fetched_at) AS fetched_at,
        NULL::VARCHAR AS audio_path, NULL::VARCHAR AS audio_size, NULL::VARCHAR AS audio_mtime_ns,
        ta.artists, im.images
    FROM (SELECT * FROM sq_tracks WHERE _rowid BETWEEN {lo} AND {hi}) t
    LEFT JOIN sq_albums al ON al._rowid = t.album_rowid
    LEFT JOIN ta ON ta.track_rowid = t._rowid
    LEFT JOIN sq_images im ON im.album_rowid = t.album_rowid
    """


def stage_sqlite(
    con: duckdb.DuckDBPyConnection, path: Path, source_no: int, chunk_rows: int, on_rows=None
) -> tuple[int, int]:
    """Stage a rowid-keyed SQLite dump; locators are ``tracks`` rowids."""
    have = _columns(path)
    db = adbc_sqlite.connect(f"file:{path}?mode=ro")
    try:
        orders = {
            "artists": "_rowid",
            "albums": "_rowid",
            "tracks": "_rowid",
            "track_artists": "track_rowid, _rowid",
            "artist_genres": "artist_rowid, _rowid",
            "album_images": "album_rowid, _rowid",
        }
        for table, order in orders.items():
            _copy(con, db, table, have.get(table, set()), order)
    finally:
        db.close()
    con.execute("""
        CREATE OR REPLACE TEMP TABLE sq_genres AS
        SELECT artist_rowid, list(genre ORDER BY _rowid) AS genres, bool_and(utf8_ok) AS ok
        FROM sq_artist_genres WHERE genre IS NOT NULL GROUP BY artist_rowid ORDER BY artist_rowid""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE sq_images AS
        SELECT album_rowid, list(struct_pack(url := url, width := width, height := height)
                                 ORDER BY _rowid) AS images
        FROM sq_album_images GROUP BY album_rowid ORDER BY album_rowid""")
    lo_hi = con.execute("SELECT min(_rowid), max(_rowid) FROM sq_tracks").fetchall()[0]
    ok = bad = 0
    if lo_hi[0] is not None:
        lo, top = int(lo_hi[0]), int(lo_hi[1])
        while lo <= top:
            hi = lo + chunk_rows - 1
            o, b = stage_chunk(con, _track_sql(str(path), source_no, lo, hi))
            ok += o
            bad += b
            if on_rows is not None:
                on_rows(min(hi, top) - lo + 1)
            lo = hi + 1
    for t in (*LAYOUT, "genres", "images"):
        con.execute(f"DROP TABLE IF EXISTS sq_{t}")
    return ok, bad
