"""Schema of the published metadata index ``release/index/musark_index.sqlite3(.zst)``.

Mirror operators query it with stock sqlite3 after ``zstd -d``; mirror and serve read it
without the working catalogue. Add columns or tables, never rename.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS artists (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    followers INTEGER,
    popularity INTEGER
);
CREATE TABLE IF NOT EXISTS artist_genres (
    artist_id TEXT NOT NULL,
    genre TEXT NOT NULL,
    PRIMARY KEY (artist_id, genre)
);
CREATE TABLE IF NOT EXISTS albums (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    album_type TEXT,
    label TEXT,
    copyright_c TEXT,
    copyright_p TEXT,
    upc TEXT,
    release_date TEXT,
    release_date_precision TEXT,
    total_tracks INTEGER,
    popularity INTEGER
);
CREATE TABLE IF NOT EXISTS album_images (
    album_id TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    path TEXT NOT NULL              -- inside the album-art torrent: '<album_id>.<ext>'
);
CREATE TABLE IF NOT EXISTS tracks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    album_id TEXT,
    track_number INTEGER,
    disc_number INTEGER,
    duration_ms INTEGER,
    explicit INTEGER,
    isrc TEXT,
    popularity INTEGER,
    streams INTEGER
);
CREATE TABLE IF NOT EXISTS track_artists (
    track_id TEXT NOT NULL,
    artist_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, position)
);
CREATE TABLE IF NOT EXISTS track_files (
    track_id TEXT PRIMARY KEY,
    batch TEXT NOT NULL,            -- = torrent name and root folder
    path TEXT NOT NULL,             -- inside the torrent: 'data/<track_id>.<ext>'
    file_index_in_torrent INTEGER NOT NULL,  -- BEP 53 so= index
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    sha256_original TEXT,
    patch_path TEXT,                -- inside the batch's patch torrent, NULL when re-encoded
    codec TEXT,
    kbps INTEGER,
    tier TEXT
);
CREATE TABLE IF NOT EXISTS torrents (
    name TEXT PRIMARY KEY,          -- batch name, or e.g. 'patches__<batch>', 'album_art', 'index'
    kind TEXT NOT NULL,             -- batch | patches | album_art | metadata
    btih TEXT NOT NULL,
    btmh TEXT,
    magnet_link TEXT NOT NULL,
    torrent_path TEXT NOT NULL,     -- relative to release/
    num_files INTEGER,
    data_size INTEGER
);
CREATE INDEX IF NOT EXISTS tracks_isrc ON tracks(isrc);
CREATE INDEX IF NOT EXISTS tracks_album ON tracks(album_id);
CREATE INDEX IF NOT EXISTS albums_upc ON albums(upc);
CREATE INDEX IF NOT EXISTS track_artists_artist ON track_artists(artist_id);
CREATE INDEX IF NOT EXISTS track_files_batch ON track_files(batch, file_index_in_torrent);
"""


def create_schema(con: sqlite3.Connection) -> None:
    """Create the index tables and record the schema version."""
    con.executescript(DDL)
    con.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
