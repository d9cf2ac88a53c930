"""Set-based merge of one ingest's stage into the catalogue, in a single transaction.

Per entity (track, album, artist) the newest staged record wins inside the run (latest
``fetched_at``, then the later line; picked with a hash aggregate, not a sort). It then replaces the catalogue's row when it is newer, or as
new with equal ``fetched_at`` but different content (``record_hash``); an identical record leaves
the catalogue untouched, so ingesting the same dump twice changes nothing. Child rows
(track_artists, album_images, artist_genres, track_audio, isrc_tracks) follow their parent's winner.
Tracks are appended in stage order: point lookups go through ART indexes (see lookup.py), so a
sort by id would only cost the insert (a third of it). Albums and artists (few) are inserted
sorted by id; child tables are appended unsorted.
"""

from __future__ import annotations

from typing import Any

import duckdb

_NEWER = """(o.id IS NULL
    OR coalesce(s.fetched_at, TIMESTAMP '0001-01-01') > coalesce(o.fetched_at, TIMESTAMP '0001-01-01')
    OR (s.fetched_at IS NOT DISTINCT FROM o.fetched_at AND s.record_hash <> o.record_hash))"""
_OLDER = """(coalesce(s.fetched_at, TIMESTAMP '0001-01-01') < coalesce(o.fetched_at, TIMESTAMP '0001-01-01'))"""
# arg_max key of the newest staged record: latest fetched_at (unknown = oldest), then latest ord
_NEWEST = "(coalesce(fetched_at, TIMESTAMP '0001-01-01'), ord)"

_TRACK_COLS = (
    "id, name, album_id, track_number, disc_number, duration_ms, explicit, isrc, popularity, "
    "streams, fetched_at, source"
)
_ALBUM_COLS = (
    "id, name, album_type, label, copyright_c, copyright_p, upc, release_date, "
    "release_date_precision, total_tracks, popularity, fetched_at, source"
)
# the album columns of a staged track, under the names of table albums (after id)
_ALBUM_STAGED = (
    "album_name AS name, album_type, label, copyright_c, copyright_p, upc, release_date, "
    "release_date_precision, total_tracks, album_popularity AS popularity, fetched_at, source"
)


def _winners(con: duckdb.DuckDBPyConnection, kind: str, table: str) -> dict[str, int]:
    """Create temp table w_<kind>(id, ord, record_hash, is_new) from s_<kind>; return counts."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE w_{kind} AS
        SELECT s.id, s.ord, s.record_hash, o.id IS NULL AS is_new
        FROM s_{kind} s LEFT JOIN {table} o ON o.id = s.id
        WHERE {_NEWER}""")
    added, replaced, staged, older = con.execute(f"""
        SELECT (SELECT count(*) FILTER (is_new) FROM w_{kind}),
               (SELECT count(*) FILTER (NOT is_new) FROM w_{kind}),
               (SELECT count(*) FROM s_{kind}),
               (SELECT count(*) FROM s_{kind} s JOIN {table} o ON o.id = s.id WHERE {_OLDER})
    """).fetchall()[0]
    return {
        "added": added,
        "updated": replaced,
        "unchanged": staged - added - replaced - older,
        "kept_newer": older,
    }


def _replace(con: duckdb.DuckDBPyConnection, kind: str, table: str, key: str = "id") -> None:
    con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT id FROM w_{kind} WHERE NOT is_new)")


def merge_stage(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Merge the stage (valid rows and rejects) into the catalogue tables; return per-entity counts."""
    con.execute("BEGIN TRANSACTION")
    try:
        result = _merge(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    # point lookups (catalog/lookup.py): ART indexes, maintained by every later ingest. The first
    # one builds them after its COMMIT, in bulk over committed rows: created inside the merge's
    # transaction, DuckDB inserts every key one by one at COMMIT (2.5x the CPU at 2 M tracks). A
    # kill in between leaves the merged catalogue without them; the rerun's merge changes
    # nothing and then builds them, so the result is the same.
    con.execute("CREATE INDEX IF NOT EXISTS tracks_id_idx ON tracks (id)")
    con.execute("CREATE INDEX IF NOT EXISTS isrc_tracks_isrc_idx ON isrc_tracks (isrc)")
    for t in ("s_tracks", "s_albums", "s_artists", "w_tracks", "w_albums", "w_artists"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return result


def _merge(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    # --- tracks: each id's newest staged record (keys and hash only). A dump without duplicate
    # ids (the usual case) needs no aggregate: counting distinct ids costs a fifth of carrying
    # every record through arg_max.
    staged, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM stage_ok").fetchone()
    if staged == distinct:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE s_tracks AS
            SELECT id, ord, fetched_at, record_hash FROM stage_ok""")
    else:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE s_tracks AS
            SELECT id, w.ord, w.fetched_at, w.record_hash FROM (
                SELECT id, arg_max(struct_pack(ord, fetched_at, record_hash), {_NEWEST}) AS w
                FROM stage_ok GROUP BY id)""")
    tracks = _winners(con, "tracks", "tracks")
    for child, key in (("track_artists", "track_id"), ("track_audio", "track_id")):
        _replace(con, "tracks", child, key)
    _replace(con, "tracks", "isrc_tracks", "track_id")
    _replace(con, "tracks", "tracks")
    if tracks["added"] + tracks["updated"] == staged:
        # every staged record wins (a first ingest of a dump without duplicates): no join
        won = "stage_ok s"
    else:
        won = "(SELECT * FROM stage_ok SEMI JOIN w_tracks USING (ord)) s"
    con.execute(f"""
        INSERT INTO tracks ({_TRACK_COLS}, record_hash, artist_id)
        SELECT s.{_TRACK_COLS.replace(", ", ", s.")}, s.record_hash, s.artist_id
        FROM {won}""")
    con.execute(f"""
        INSERT INTO track_artists
        SELECT id, a.id, (pos - 1)::SMALLINT FROM (
            SELECT s.id, unnest(s.artists) AS a, generate_subscripts(s.artists, 1) AS pos
            FROM {won})""")
    con.execute(f"""
        INSERT INTO track_audio
        SELECT s.id, s.audio_path, s.audio_size, s.audio_mtime_ns
        FROM {won} WHERE s.audio_path IS NOT NULL""")
    con.execute(f"""
        INSERT INTO isrc_tracks
        SELECT s.isrc, s.id FROM {won} WHERE s.isrc IS NOT NULL""")

    # --- albums: the newest record of each album among this run's valid tracks: a hash aggregate
    # finds its ord, a semi join fetches the winning rows whole (albums are few next to their
    # tracks; carrying every record through arg_max cost 2.5x as much)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_albums AS
        SELECT album_id AS id, ord, {_ALBUM_STAGED}, images, hash(album_name, album_type, label, copyright_c, copyright_p, upc,
                         release_date, release_date_precision, total_tracks, album_popularity,
                         images) AS record_hash
        FROM stage_ok SEMI JOIN (
            SELECT arg_max(ord, {_NEWEST}) AS ord FROM stage_ok GROUP BY album_id) w USING (ord)
    """)
    albums = _winners(con, "albums", "albums")
    _replace(con, "albums", "album_images", "album_id")
    _replace(con, "albums", "albums")
    won = "s_albums s SEMI JOIN w_albums w USING (ord)"
    con.execute(f"""
        INSERT INTO albums ({_ALBUM_COLS}, record_hash)
        SELECT {_ALBUM_COLS}, record_hash FROM {won} ORDER BY id""")
    con.execute(f"""
        INSERT INTO album_images
        SELECT id, i.width, i.height, i.url FROM (
            SELECT id, unnest(images) AS i, generate_subscripts(images, 1) AS pos FROM {won})
        ORDER BY id, pos""")
    # --- artists: absent followers/popularity/genres keep what the catalogue already knows
    con.execute("""
        CREATE OR REPLACE TEMP TABLE s_artists AS
        SELECT id, w.*, hash(w.name, w.followers, w.popularity, list_sort(w.genres)) AS record_hash
        FROM (SELECT a.id AS id, arg_max(struct_pack(ord, name := a.name, followers := a.followers,
                    popularity := a.popularity, genres := a.genres, fetched_at, source),
                (coalesce(fetched_at, TIMESTAMP '0001-01-01'), a.followers IS NOT NULL, ord)) AS w
              FROM (SELECT unnest(artists) AS a, fetched_at, source, ord FROM stage_ok)
              GROUP BY a.id)
    """)
    con.execute("""
        UPDATE s_artists s SET
            followers = coalesce(s.followers, o.followers),
            popularity = coalesce(s.popularity, o.popularity),
            record_hash = hash(s.name, coalesce(s.followers, o.followers),
                               coalesce(s.popularity, o.popularity),
                               coalesce(list_sort(s.genres),
                                        (SELECT list(genre ORDER BY genre)
                                         FROM artist_genres g WHERE g.artist_id = o.id)))
        FROM artists o WHERE o.id = s.id
            AND (s.followers IS NULL OR s.popularity IS NULL OR s.genres IS NULL)""")
    artists = _winners(con, "artists", "artists")
    con.execute("""
        DELETE FROM artist_genres WHERE artist_id IN (
            SELECT id FROM s_artists SEMI JOIN w_artists USING (id) WHERE genres IS NOT NULL)""")
    _replace(con, "artists", "artists")
    con.execute("""
        INSERT INTO artists (id, name, followers, popularity, fetched_at, source, record_hash)
        SELECT id, name, followers, popularity, fetched_at, source, record_hash
        FROM s_artists SEMI JOIN w_artists USING (id) ORDER BY id""")
    con.execute("""
        INSERT INTO artist_genres
        SELECT DISTINCT id, unnest(genres) FROM s_artists SEMI JOIN w_artists USING (id)
        WHERE genres IS NOT NULL ORDER BY ALL""")

    # --- rejects: one row per (source, locator, reason), first rejection kept
    rejects = con.execute("""
        INSERT INTO rejects
        SELECT source, locator, reason, any_value(raw), now()::TIMESTAMP FROM (
            SELECT source, locator, reason, raw FROM stage_rows WHERE reason IS NOT NULL
            UNION ALL SELECT source, locator, reason, raw FROM stage_rejects) s
        WHERE NOT EXISTS (SELECT 1 FROM rejects r WHERE r.source = s.source
                          AND r.locator = s.locator AND r.reason = s.reason)
        GROUP BY source, locator, reason ORDER BY source, locator""").fetchall()[0]
    return {
        "tracks": tracks,
        "albums": albums,
        "artists": artists,
        "new_rejects": int(rejects[0]) if rejects else 0,
    }
