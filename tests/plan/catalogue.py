"""Synthetic catalogues for plan tests, written straight into the DuckDB tables with SQL.

Popularity follows the reference shape: 70 % of tracks at 0, the rest geometric so that ~0.1 % of
all tracks reach >= 50. ~30 % of tracks share their ISRC with a neighbour, 2 % have none.
Everything is a pure function of (n, seed): hash() of the row number drives every column.
"""

from __future__ import annotations

import math

import duckdb

# P(popularity >= 50 | popularity >= 1) = 0.1 % / 30 %
LAMBDA = math.log(300) / 49


def _u(salt: str, seed: int, col: str = "i") -> str:
    """SQL: a uniform [0, 1) number derived from the row number."""
    return f"((hash({col}, '{salt}', {seed}) % 1000000007) / 1000000007.0)"


def fill_catalogue(
    con: duckdb.DuckDBPyConnection,
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    streams: bool = False,
) -> None:
    """Insert tracks start..start+n (ids 't<i>') plus their albums and artists into the catalogue."""
    n_artists = max(1, n // 20)
    n_albums = max(1, n // 10)
    # a track's primary artist, in tracks.artist_id and at track_artists position 0 (as ingest)
    primary = f"'ar' || (hash(i, 'art', {seed}) % {n_artists} + {start // 20})"
    con.execute(
        f"""
        INSERT INTO artists (id, name, followers, popularity, source)
        SELECT 'ar' || i, 'Artist ' || i, floor(pow(10, 7 * {_u("fol", seed)}))::BIGINT,
               floor(60 * {_u("apop", seed)})::SMALLINT, 'fixture'
        FROM range({start // 20}, {start // 20 + n_artists}) r(i)
        WHERE NOT EXISTS (SELECT 1 FROM artists a WHERE a.id = 'ar' || i)
        """
    )
    con.execute(
        f"""
        INSERT INTO albums (id, name, album_type, label, popularity, source)
        SELECT 'al' || i, 'Album ' || i, 'album', 'Label ' || (i % 37),
               floor(50 * {_u("alpop", seed)})::SMALLINT, 'fixture'
        FROM range({start // 10}, {start // 10 + n_albums}) r(i)
        WHERE NOT EXISTS (SELECT 1 FROM albums a WHERE a.id = 'al' || i)
        """
    )
    pop = (
        f"CASE WHEN {_u('p0', seed)} < 0.7 THEN 0 "
        f"ELSE least(100, 1 + floor(-ln(1 - {_u('p1', seed)}) / {LAMBDA!r})) END"
    )
    grp = f"CASE WHEN {_u('dup', seed)} < 0.3 THEN i // 3 * 3 ELSE i END"
    con.execute(
        f"""
        INSERT INTO tracks (id, name, album_id, track_number, duration_ms, isrc, popularity,
                            streams, source, artist_id)
        SELECT 't' || i, 'Track ' || i, 'al' || (i // 10), (i % 10 + 1)::INTEGER,
               (60000 + floor(360000 * {_u("dur", seed)}))::INTEGER,
               CASE WHEN {_u("noisrc", seed)} < 0.02 THEN NULL
                    ELSE 'QZSYN' || lpad(({grp})::VARCHAR, 7, '0') END,
               ({pop})::SMALLINT,
               {f"floor(pow(10, 1 + 8 * pow({_u('st', seed)}, 6)))::BIGINT" if streams else "NULL"},
               'fixture', {primary}
        FROM range({start}, {start + n}) r(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO track_artists (track_id, artist_id, position)
        SELECT 't' || i, {primary}, 0
        FROM range({start}, {start + n}) r(i)
        UNION ALL
        SELECT 't' || i, 'ar' || (hash(i, 'art2', {seed}) % {n_artists} + {start // 20}), 1
        FROM range({start}, {start + n}) r(i) WHERE {_u("feat", seed)} < 0.1
        """
    )
