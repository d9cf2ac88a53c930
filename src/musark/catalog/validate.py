"""Validation of staged records in one vectorised SQL pass: each record is typed or gets a reason.

Every reader (JSONL, SQLite, CSV, Parquet, folder) turns its chunk into the *raw record* shape
below, all text, and this module checks and types it. A record that fails any check goes to the
ingest's rejects with the first failing reason; the others land in the typed stage table that
the merge reads.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Text fields of a raw record (VARCHAR, NULL or '' when absent), in stage order.
RAW_FIELDS = (
    "id",
    "name",
    "album_id",
    "album_name",
    "album_type",
    "label",
    "copyright_c",
    "copyright_p",
    "upc",
    "release_date",
    "release_date_precision",
    "total_tracks",
    "album_popularity",
    "track_number",
    "disc_number",
    "duration_ms",
    "explicit",
    "isrc",
    "popularity",
    "streams",
    "fetched_at",
    "audio_path",
    "audio_size",
    "audio_mtime_ns",
)
RAW_ARTIST = (
    "STRUCT(id VARCHAR, name VARCHAR, followers VARCHAR, popularity VARCHAR, genres VARCHAR[])"
)
RAW_IMAGE = "STRUCT(url VARCHAR, width VARCHAR, height VARCHAR)"
STAGE_IMAGE = "STRUCT(url VARCHAR, width INTEGER, height INTEGER)[]"

# Every reason a record can be rejected for, in the order the checks run.
REASONS = (
    "invalid_utf8",  # the record's bytes are not valid UTF-8
    "invalid_json",  # a JSONL line that is not one JSON object
    "invalid_csv",  # a CSV line the CSV parser could not read
    "unreadable_file",  # folder ingest: mutagen could not read the audio file
    "missing_field",  # id, name, album id/name, duration or an artist id/name absent
    "invalid_id",  # an id not matching [A-Za-z0-9_-]{1,64}
    "invalid_isrc",  # not CCXXXYYNNNNN after removing dashes/spaces and upper-casing
    "invalid_date",  # release date not matching its precision (year|month|day) or impossible
    "invalid_duration",  # duration_ms not a positive integer
    "invalid_popularity",  # track, album or artist popularity outside 0..100
    "invalid_number",  # track/disc number, total tracks, streams, followers or size not a count
    "invalid_timestamp",  # fetched_at not an ISO 8601 timestamp
)

ID_RE = "[A-Za-z0-9_-]{1,64}"
ISRC_RE = "[A-Z]{2}[A-Z0-9]{3}[0-9]{7}"
RAW_MAX = 4000  # characters of a rejected record kept in rejects.raw
STAGE_DB = "ingest_stage"  # name the scratch stage database is attached under
ORD_SHIFT = 1 << 40  # ord = source number << 40 | row: later sources and rows win ties

STAGE_DDL = """
CREATE OR REPLACE TABLE {db}stage_rows (
    ord BIGINT, source VARCHAR, locator VARCHAR,
    id VARCHAR, name VARCHAR, album_id VARCHAR, album_name VARCHAR, album_type VARCHAR,
    label VARCHAR, copyright_c VARCHAR, copyright_p VARCHAR, upc VARCHAR,
    release_date VARCHAR, release_date_precision VARCHAR, total_tracks INTEGER,
    album_popularity SMALLINT, track_number INTEGER, disc_number INTEGER, duration_ms INTEGER,
    explicit BOOLEAN, isrc VARCHAR, popularity SMALLINT, streams BIGINT, fetched_at TIMESTAMP,
    artists STRUCT(id VARCHAR, name VARCHAR, followers BIGINT, popularity SMALLINT, genres VARCHAR[])[],
    images STRUCT(url VARCHAR, width INTEGER, height INTEGER)[],
    audio_path VARCHAR, audio_size BIGINT, audio_mtime_ns BIGINT,
    record_hash UBIGINT, -- TRACK_HASH, for the merge
    artist_id VARCHAR,  -- the primary artist's id (tracks.artist_id)
    reason VARCHAR,     -- NULL for a valid record
    raw VARCHAR         -- the record as read, kept for rejected ones only
);
CREATE OR REPLACE TEMP VIEW stage_ok AS SELECT * FROM stage_rows WHERE reason IS NULL;
-- rejects found before a record exists (e.g. CSV lines the parser could not split)
CREATE OR REPLACE TABLE {db}stage_rejects (
    source VARCHAR, locator VARCHAR, reason VARCHAR, raw VARCHAR
);
"""


def create_stage(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
    """Create (or empty) the stage tables of one ingest run: temporary tables, or tables of a
    scratch database file ``path`` (DuckDB writes it compressed, about 8x smaller than a temp
    table, so a big dump's stage leaves the memory to the merge instead of spilling)."""
    if path is None:
        con.execute(STAGE_DDL.replace("TABLE {db}", "TEMP TABLE "))
        return
    remove_stage_file(path)
    con.execute(f"ATTACH '{_q(str(path))}' AS {STAGE_DB}")
    (main,) = con.execute("SELECT current_database()").fetchall()[0]
    # unqualified stage_rows / stage_rejects resolve to the scratch database
    con.execute(f"SET search_path = '{_q(main)}.main,{STAGE_DB}.main'")
    con.execute(STAGE_DDL.replace("{db}", f"{STAGE_DB}."))


def drop_stage(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
    """Drop the stage of ``create_stage`` (and its scratch database file)."""
    con.execute("DROP VIEW IF EXISTS stage_ok")
    if path is None:
        con.execute("DROP TABLE IF EXISTS stage_rows")
        con.execute("DROP TABLE IF EXISTS stage_rejects")
        return
    con.execute("RESET search_path")
    con.execute(f"DETACH {STAGE_DB}")
    remove_stage_file(path)


def remove_stage_file(path: Path) -> None:
    """Delete a scratch stage database file (and its WAL) left by this or a killed run."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _q(text: str) -> str:
    return text.replace("'", "''")


def _count_ok(expr: str) -> str:
    """SQL: True when text ``expr`` is NULL/empty or a non-negative integer."""
    return f"(nullif({expr}, '') IS NULL OR coalesce(try_cast({expr} AS BIGINT) >= 0, false))"


def _pop_ok(expr: str) -> str:
    return f"(nullif({expr}, '') IS NULL OR coalesce(try_cast({expr} AS BIGINT) BETWEEN 0 AND 100, false))"


def _id_ok(expr: str) -> str:
    return f"regexp_full_match(coalesce({expr}, ''), '{ID_RE}')"


# Normalised helper columns, computed once per record (NORM_SQL) and read by both the reason and
# the typed projection, so no expression is evaluated twice.
_ISRC_NORM = "nullif(upper(regexp_replace(trim(coalesce(isrc, '')), '[-\\s.]', '', 'g')), '')"
# '0000' is how big dumps spell an unknown release date: it becomes NULL, not a reject.
_DATE = "CASE WHEN trim(coalesce(release_date, '')) IN ('', '0000') THEN NULL ELSE trim(release_date) END"
_PREC = (
    "coalesce(nullif(lower(trim(release_date_precision)), ''), "
    "CASE length(_date) WHEN 4 THEN 'year' WHEN 7 THEN 'month' WHEN 10 THEN 'day' END)"
)
# ISO 8601 text (offsets honoured, stored as UTC), or Unix epoch seconds/milliseconds
_FETCHED = """CASE
    WHEN regexp_full_match(trim(fetched_at), '[0-9]{9,11}')
        THEN to_timestamp(trim(fetched_at)::BIGINT)::TIMESTAMP
    WHEN regexp_full_match(trim(fetched_at), '[0-9]{12,14}')
        THEN to_timestamp(trim(fetched_at)::BIGINT / 1000.0)::TIMESTAMP
    ELSE try_cast(nullif(trim(fetched_at), '') AS TIMESTAMPTZ)::TIMESTAMP END"""
NORM_SQL = f"{_ISRC_NORM} AS _isrc, {_DATE} AS _date, {_FETCHED} AS _fetched"
_DATE_OK = """(
    _date IS NULL OR CASE _prec
        WHEN 'year' THEN regexp_full_match(_date, '[0-9]{4}')
            AND try_strptime(_date || '-01-01', '%Y-%m-%d') IS NOT NULL
        WHEN 'month' THEN regexp_full_match(_date, '[0-9]{4}-[0-9]{2}')
            AND try_strptime(_date || '-01', '%Y-%m-%d') IS NOT NULL
        WHEN 'day' THEN regexp_full_match(_date, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            AND try_strptime(_date, '%Y-%m-%d') IS NOT NULL
        ELSE false END)"""

REASON_SQL = f"""CASE
    WHEN pre_reason IS NOT NULL THEN pre_reason
    WHEN nullif(id, '') IS NULL OR nullif(name, '') IS NULL OR nullif(album_id, '') IS NULL
        OR nullif(album_name, '') IS NULL OR nullif(duration_ms, '') IS NULL
        OR coalesce(len(artists), 0) = 0
        OR NOT list_bool_and(list_transform(artists, lambda a:
            nullif(a.id, '') IS NOT NULL AND nullif(a.name, '') IS NOT NULL))
        THEN 'missing_field'
    WHEN NOT ({_id_ok("id")} AND {_id_ok("album_id")}
        AND list_bool_and(list_transform(artists, lambda a: {_id_ok("a.id")})))
        THEN 'invalid_id'
    WHEN _isrc IS NOT NULL AND NOT regexp_full_match(_isrc, '{ISRC_RE}')
        THEN 'invalid_isrc'
    WHEN NOT {_DATE_OK} THEN 'invalid_date'
    WHEN NOT coalesce(try_cast(duration_ms AS BIGINT) BETWEEN 1 AND 2147483647, false)
        THEN 'invalid_duration'
    WHEN NOT ({_pop_ok("popularity")} AND {_pop_ok("album_popularity")}
        AND list_bool_and(list_transform(artists, lambda a: {_pop_ok("a.popularity")})))
        THEN 'invalid_popularity'
    WHEN NOT ({_count_ok("track_number")} AND {_count_ok("disc_number")}
        AND {_count_ok("total_tracks")} AND {_count_ok("streams")}
        AND list_bool_and(list_transform(artists, lambda a: {_count_ok("a.followers")}))
        AND list_bool_and(list_transform(coalesce(images, []), lambda i:
            {_count_ok("i.width")} AND {_count_ok("i.height")})))
        THEN 'invalid_number'
    WHEN _fetched IS NULL AND nullif(trim(fetched_at), '') IS NOT NULL
        THEN 'invalid_timestamp'
END"""


def _n(col: str, typ: str) -> str:
    # '' casts to NULL: no nullif needed
    return f"try_cast(trim({col}) AS {typ})"


_IMAGES_FILTERED = f"""list_transform(
    list_filter(coalesce(images, []), lambda i: nullif(i.url, '') IS NOT NULL),
    lambda i: struct_pack(url := i.url, width := {_n("i.width", "INTEGER")},
                          height := {_n("i.height", "INTEGER")}))"""
# The usual list (every url given, sizes in ASCII) is typed by one cast of the whole list, 8x
# cheaper than the element-wise lambda; it gives the same values: the cast strips ASCII
# whitespace and reads '' as NULL, so only non-ASCII spaces (which trim() also strips) need the
# lambda.
_ASCII = "strlen(coalesce({0}, '')) = length(coalesce({0}, ''))"
_IMAGES_TYPED = f"""CASE WHEN list_bool_and(list_transform(images, lambda i: coalesce(i.url <> ''
        AND {_ASCII.format("i.width")} AND {_ASCII.format("i.height")}, false)))
    THEN try_cast(images AS {STAGE_IMAGE}) ELSE {_IMAGES_FILTERED} END"""

TYPED_SQL = f"""
    ord, source, locator,
    id, name, album_id, album_name,
    nullif(lower(trim(album_type)), '') AS album_type,
    nullif(label, '') AS label, nullif(copyright_c, '') AS copyright_c,
    nullif(copyright_p, '') AS copyright_p, nullif(trim(upc), '') AS upc,
    _date AS release_date, CASE WHEN _date IS NOT NULL THEN _prec END AS release_date_precision,
    {_n("total_tracks", "INTEGER")} AS total_tracks,
    {_n("album_popularity", "SMALLINT")} AS album_popularity,
    {_n("track_number", "INTEGER")} AS track_number,
    {_n("disc_number", "INTEGER")} AS disc_number,
    {_n("duration_ms", "INTEGER")} AS duration_ms,
    {_n("explicit", "BOOLEAN")} AS explicit,
    _isrc AS isrc,
    {_n("popularity", "SMALLINT")} AS popularity,
    {_n("streams", "BIGINT")} AS streams,
    _fetched AS fetched_at,
    list_transform(artists, lambda a: struct_pack(
        id := a.id, name := a.name,
        followers := {_n("a.followers", "BIGINT")},
        popularity := {_n("a.popularity", "SMALLINT")},
        genres := a.genres)) AS artists,
    {_IMAGES_TYPED} AS images,
    nullif(audio_path, '') AS audio_path,
    {_n("audio_size", "BIGINT")} AS audio_size,
    {_n("audio_mtime_ns", "BIGINT")} AS audio_mtime_ns
"""


# A track's content hash: the merge tells a changed record from a re-ingested identical one by it.
TRACK_HASH = (
    "hash(name, album_id, track_number, disc_number, duration_ms, explicit, isrc, popularity, "
    "streams, list_transform(artists, lambda a: a.id), audio_path, audio_size, audio_mtime_ns)"
)


def stage_sql(raw_sql: str) -> str:
    """The INSERT validating the raw records selected by ``raw_sql`` into the stage."""
    # one pass, one write: typed values and the reason land together; the raw text is kept
    # only for rejected records. The record hash and primary artist are taken here, from the
    # artist list in flight: the merge would otherwise read the stage's nested list column
    # back twice for them.
    return f"""
        INSERT INTO stage_rows
        SELECT * EXCLUDE (reason, raw), {TRACK_HASH}, artists[1].id, reason, raw FROM (
            SELECT {TYPED_SQL}, reason,
                CASE WHEN reason IS NOT NULL
                    THEN left(rtrim(raw, chr(10) || chr(13)), {RAW_MAX}) END AS raw
            FROM (SELECT *, {REASON_SQL} AS reason FROM (
                SELECT *, {_PREC} AS _prec FROM (SELECT *, {NORM_SQL} FROM ({raw_sql})))))"""


def stage_chunk(con: duckdb.DuckDBPyConnection, raw_sql: str) -> tuple[int, int]:
    """Validate the raw records selected by ``raw_sql`` into the stage; return (ok, rejected)."""
    # No RETURNING: it makes DuckDB insert on one thread (about 40 % slower); counting the
    # stage's rejects before and after reads one mostly-NULL column.
    bad_before = stage_rejected(con)
    (rows,) = con.execute(stage_sql(raw_sql)).fetchall()[0]
    bad = stage_rejected(con) - bad_before
    return int(rows) - bad, bad


def stage_rejected(con: duckdb.DuckDBPyConnection) -> int:
    """Rejected records in the stage so far."""
    return int(con.execute("SELECT count(reason) FROM stage_rows").fetchall()[0][0])


def null_raw_columns(present: set[str]) -> str:
    """SQL select-list padding: NULL for every raw text field a reader does not provide."""
    return ", ".join(f"NULL::VARCHAR AS {f}" for f in RAW_FIELDS if f not in present)
