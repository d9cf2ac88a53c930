"""Tables of ``ARCHIVE/catalog.duckdb``: the contract between ingest, plan, process and release.

Column names and meanings here are relied on by every later stage; add columns, never rename.
Big tables carry no PRIMARY KEY constraint: at 256 M rows an ART index costs memory and insert
speed, so uniqueness of ids is maintained by ingest's set-based merge instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a connection is opened: process workers read only the names
    import duckdb

TABLES: dict[str, str] = {
    "artists": """
        CREATE TABLE IF NOT EXISTS artists (
            id VARCHAR NOT NULL,            -- opaque source id, [A-Za-z0-9_-]{1,64}
            name VARCHAR NOT NULL,
            followers BIGINT,
            popularity SMALLINT,            -- 0..100, NULL when unknown
            fetched_at TIMESTAMP,
            source VARCHAR,                 -- the dump/folder the row came from
            record_hash UBIGINT             -- content hash: ingest skips identical re-ingests
        )""",
    "artist_genres": """
        CREATE TABLE IF NOT EXISTS artist_genres (
            artist_id VARCHAR NOT NULL,
            genre VARCHAR NOT NULL
        )""",
    "albums": """
        CREATE TABLE IF NOT EXISTS albums (
            id VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            album_type VARCHAR,             -- album | single | compilation | ...
            label VARCHAR,
            copyright_c VARCHAR,
            copyright_p VARCHAR,
            upc VARCHAR,
            release_date VARCHAR,           -- 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD' per precision
            release_date_precision VARCHAR, -- year | month | day
            total_tracks INTEGER,
            popularity SMALLINT,
            fetched_at TIMESTAMP,
            source VARCHAR,
            record_hash UBIGINT
        )""",
    "album_images": """
        CREATE TABLE IF NOT EXISTS album_images (
            album_id VARCHAR NOT NULL,
            width INTEGER,
            height INTEGER,
            url_or_path VARCHAR NOT NULL    -- a local file path, or a URL recorded from a dump
        )""",
    "tracks": """
        CREATE TABLE IF NOT EXISTS tracks (
            id VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            album_id VARCHAR,
            track_number INTEGER,
            disc_number INTEGER,
            duration_ms INTEGER,
            explicit BOOLEAN,
            isrc VARCHAR,                   -- normalised CCXXXYYNNNNN, NULL when absent
            popularity SMALLINT,            -- 0..100, NULL when unknown
            streams BIGINT,                 -- nullable: real listen counts when the source has them
            fetched_at TIMESTAMP,
            source VARCHAR,
            record_hash UBIGINT,
            artist_id VARCHAR               -- the primary artist: track_artists at position 0
        )""",
    "track_artists": """
        CREATE TABLE IF NOT EXISTS track_artists (
            track_id VARCHAR NOT NULL,
            artist_id VARCHAR NOT NULL,
            position SMALLINT NOT NULL      -- 0 = primary artist
        )""",
    "isrc_tracks": """
        CREATE TABLE IF NOT EXISTS isrc_tracks (
            isrc VARCHAR NOT NULL,          -- lookup side table: ingest keeps an ART index on isrc
            track_id VARCHAR NOT NULL
        )""",
    "rejects": """
        CREATE TABLE IF NOT EXISTS rejects (
            source VARCHAR NOT NULL,        -- file the bad record came from
            locator VARCHAR NOT NULL,       -- line number, rowid or path inside the source
            reason VARCHAR NOT NULL,        -- short machine-friendly reason, e.g. 'invalid_isrc'
            raw VARCHAR,                    -- the record as it was (truncated when huge)
            rejected_at TIMESTAMP
        )""",
    "track_audio": """
        CREATE TABLE IF NOT EXISTS track_audio (
            track_id VARCHAR NOT NULL,      -- source audio of a track found by a folder ingest
            path VARCHAR NOT NULL,          -- absolute path of the operator's file
            size BIGINT,
            mtime_ns BIGINT
        )""",
    "batches": """
        CREATE TABLE IF NOT EXISTS batches (
            name VARCHAR NOT NULL,          -- e.g. 'keep__0001' (scheme documented by plan)
            tier VARCHAR NOT NULL,
            seq INTEGER NOT NULL,
            status VARCHAR NOT NULL,        -- planned | released
            num_files INTEGER,
            popularity_min SMALLINT,
            popularity_max SMALLINT,
            released_at TIMESTAMP
        )""",
    "track_files": """
        CREATE TABLE IF NOT EXISTS track_files (
            -- zstd: unique ids gain nothing from a dictionary, and the plan rewrites millions
            -- of rows at a time (a quarter less file and 10 % less insert CPU than DICT_FSST)
            track_id VARCHAR NOT NULL USING COMPRESSION zstd,
            batch VARCHAR,                  -- NULL for a track deduplicated onto another one
            seq_in_batch INTEGER,           -- 0-based position in the batch (popularity order)
            tier VARCHAR NOT NULL,
            codec VARCHAR,                  -- planned: 'keep' or 'opus'; after process: real codec
            target_kbps INTEGER,
            est_bytes BIGINT,
            status VARCHAR NOT NULL,        -- planned | done | quarantined | dedup | excluded
            dedup_of VARCHAR,               -- the track whose file stands for this one (same ISRC)
            -- filled by `process`:
            ext VARCHAR,                    -- file extension without the dot
            size BIGINT,                    -- bytes of the archived file
            duration_ms INTEGER,
            bitrate_kbps INTEGER,
            sample_rate INTEGER,
            channels INTEGER,
            sha256 VARCHAR,                 -- hex SHA-256 of the archived file
            sha256_original VARCHAR,        -- hex SHA-256 of the source file
            size_original BIGINT,
            patch_size BIGINT,              -- bytes of the reconstruction patch (keep tier)
            processed_at TIMESTAMP,
            error VARCHAR,                  -- quarantine reason
            warning VARCHAR                 -- non-fatal note from process (e.g. cover skipped: why)
        )""",
}


# Columns of track_files that `process` fills (plan keeps them across re-plans, media writes them).
PROCESS_RESULT_COLUMNS: tuple[str, ...] = (
    "ext",
    "size",
    "duration_ms",
    "bitrate_kbps",
    "sample_rate",
    "channels",
    "sha256",
    "sha256_original",
    "size_original",
    "patch_size",
    "error",
    "warning",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every catalogue table that does not exist yet; bring an older one up to date."""
    for ddl in TABLES.values():
        con.execute(ddl)
    _add_primary_artist(con)
    _compress_track_file_ids(con)


def _compress_track_file_ids(con: duckdb.DuckDBPyConnection) -> None:
    """track_files as the current DDL declares it (zstd track ids), rebuilt from an older one.

    DuckDB cannot change a column's compression in place: the rows move to a new table in one
    transaction (on a catalogue of any size this happens once, the first time it is opened
    for writing).
    """
    sql = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'track_files'"
    ).fetchall()[0][0]
    if "USING COMPRESSION" in sql.upper():
        return
    cols = ", ".join(
        f'"{c}"'
        for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = 'track_files' ORDER BY column_index"
        ).fetchall()
    )
    _in_one_transaction(
        con,
        [
            "ALTER TABLE track_files RENAME TO track_files_before_zstd",
            TABLES["track_files"],
            f"INSERT INTO track_files ({cols}) SELECT {cols} FROM track_files_before_zstd",
            "DROP TABLE track_files_before_zstd",
        ],
    )


def _add_primary_artist(con: duckdb.DuckDBPyConnection) -> None:
    """tracks.artist_id (added after the first release of the schema), filled from track_artists.

    The plan reads a track's primary artist from it: a join of every track with track_artists
    (as many rows, string keys) cost the plan a sixth of its time. Ingest writes both together.
    """
    missing = not con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'tracks' AND column_name = 'artist_id'"
    ).fetchall()[0][0]
    if not missing:
        return
    # DuckDB alters no table an index depends on: the lookup index goes and comes back
    indexes = con.execute(
        "SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'tracks'"
    ).fetchall()
    _in_one_transaction(
        con,
        [
            *(f'DROP INDEX "{name}"' for name, _ in indexes),
            "ALTER TABLE tracks ADD COLUMN artist_id VARCHAR",
            "UPDATE tracks SET artist_id = ta.artist_id FROM track_artists ta "
            "WHERE ta.track_id = tracks.id AND ta.position = 0",
            *(sql for _, sql in indexes),
        ],
    )


def _in_one_transaction(con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    """Run ``statements`` all or none: a schema update killed half-way leaves the old schema."""
    con.execute("BEGIN TRANSACTION")
    try:
        for sql in statements:
            con.execute(sql)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the catalogue (creating the schema unless read-only)."""
    import duckdb

    if read_only:
        if not db_path.exists():
            raise FileNotFoundError(f"{db_path}: no catalogue here; run `musark ingest` first")
        return duckdb.connect(str(db_path), read_only=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    # DuckDB's own bar writes to stdout (it would corrupt --json) during a long schema update
    con.execute("SET enable_progress_bar = false")
    ensure_schema(con)
    return con
