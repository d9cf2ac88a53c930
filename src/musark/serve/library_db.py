"""The server's library table set ``search/library.sqlite3``, derived from the published index.

The published index is normalised for archivists; a server needs denormalised rows it can
render in one lookup and dense sequence numbers (``seq``, 1..N without gaps) so that paging
costs the same at any offset (``WHERE seq > ?``) and a uniform random draw is a random integer.
Songs are numbered in (year, id) order so a year range is one contiguous seq range.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from musark.archive import Archive
from musark.fsio import atomic_path
from musark.index.open import ensure_index_db

LIBRARY_DB = "library.sqlite3"
LIBRARY_VERSION = "6"

_BUILD = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TEMP TABLE names AS
  SELECT track_id, group_concat(name, ', ') AS names FROM (
    SELECT ta.track_id, ar.name FROM idx.track_artists ta
    JOIN idx.artists ar ON ar.id = ta.artist_id ORDER BY ta.track_id, ta.position)
  GROUP BY track_id;
CREATE INDEX temp.names_id ON names(track_id);
CREATE TEMP TABLE first_genre AS
  SELECT artist_id, min(genre) AS genre FROM idx.artist_genres GROUP BY artist_id;
CREATE INDEX temp.first_genre_id ON first_genre(artist_id);

CREATE TABLE song (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, album_id TEXT,
  album TEXT, artist TEXT, artist_id TEXT, track INTEGER, disc INTEGER, duration INTEGER,
  year INTEGER, genre TEXT, popularity INTEGER, isrc TEXT, explicit INTEGER,
  batch TEXT, path TEXT, size INTEGER, codec TEXT, kbps INTEGER);
INSERT INTO song(id, title, album_id, album, artist, artist_id, track, disc, duration, year,
                 genre, popularity, isrc, explicit, batch, path, size, codec, kbps)
  SELECT t.id, t.name, t.album_id, al.name, n.names, fa.artist_id, t.track_number,
         t.disc_number, (coalesce(t.duration_ms, 0) + 500) / 1000,
         CAST(nullif(substr(al.release_date, 1, 4), '') AS INTEGER), g.genre, t.popularity,
         t.isrc, t.explicit, f.batch, f.path, f.size, f.codec, f.kbps
  FROM idx.tracks t
  LEFT JOIN idx.albums al ON al.id = t.album_id
  LEFT JOIN names n ON n.track_id = t.id
  LEFT JOIN idx.track_artists fa ON fa.track_id = t.id AND fa.position = 0
  LEFT JOIN first_genre g ON g.artist_id = fa.artist_id
  LEFT JOIN idx.track_files f ON f.track_id = t.id
  ORDER BY 10, t.id;
CREATE INDEX song_album ON song(album_id, disc, track);
CREATE TABLE year_range AS SELECT year, min(seq) AS lo, max(seq) AS hi FROM song GROUP BY year;

CREATE TEMP TABLE album_first AS
  SELECT album_id, artist_id FROM (
    SELECT album_id, artist_id,
           row_number() OVER (PARTITION BY album_id ORDER BY disc, track, id) AS rn
    FROM song WHERE album_id IS NOT NULL) WHERE rn = 1;
CREATE INDEX temp.album_first_id ON album_first(album_id);
CREATE TABLE album (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, artist_id TEXT,
  artist TEXT, song_count INTEGER, duration INTEGER, year INTEGER, release_date TEXT,
  genre TEXT, popularity INTEGER, label TEXT, upc TEXT);
INSERT INTO album(id, name, artist_id, artist, song_count, duration, year, release_date, genre,
                  popularity, label, upc)
  SELECT al.id, al.name, af.artist_id, ar.name,
         (SELECT count(*) FROM song s WHERE s.album_id = al.id),
         (SELECT coalesce(sum(duration), 0) FROM song s WHERE s.album_id = al.id),
         CAST(nullif(substr(al.release_date, 1, 4), '') AS INTEGER), al.release_date, g.genre,
         al.popularity, al.label, al.upc
  FROM idx.albums al
  LEFT JOIN album_first af ON af.album_id = al.id
  LEFT JOIN idx.artists ar ON ar.id = af.artist_id
  LEFT JOIN first_genre g ON g.artist_id = af.artist_id
  ORDER BY al.name COLLATE NOCASE, al.id;
CREATE INDEX album_artist_name ON album(artist COLLATE NOCASE, name COLLATE NOCASE);
CREATE INDEX album_year ON album(year, name COLLATE NOCASE);
CREATE INDEX album_release ON album(release_date DESC, id);
CREATE INDEX album_genre ON album(genre, name COLLATE NOCASE);
CREATE INDEX album_artist_id ON album(artist_id);

CREATE TABLE artist_album (artist_id TEXT NOT NULL, album_id TEXT NOT NULL,
  PRIMARY KEY (artist_id, album_id)) WITHOUT ROWID;
INSERT OR IGNORE INTO artist_album
  SELECT ta.artist_id, s.album_id FROM idx.track_artists ta JOIN song s ON s.id = ta.track_id
  WHERE s.album_id IS NOT NULL;
CREATE TABLE artist (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, album_count INTEGER,
  popularity INTEGER, followers INTEGER);
INSERT INTO artist(id, name, album_count, popularity, followers)
  SELECT ar.id, ar.name, (SELECT count(*) FROM artist_album aa WHERE aa.artist_id = ar.id),
         ar.popularity, ar.followers
  FROM idx.artists ar ORDER BY ar.name COLLATE NOCASE, ar.id;

CREATE TABLE album_image (album_id TEXT PRIMARY KEY, path TEXT NOT NULL);
INSERT INTO album_image
  SELECT album_id, path FROM (
    SELECT album_id, path, row_number() OVER (
      PARTITION BY album_id ORDER BY coalesce(width, 0) * coalesce(height, 0) DESC, path) AS rn
    FROM idx.album_images) WHERE rn = 1;

CREATE TABLE genre_song (genre TEXT NOT NULL, n INTEGER NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (genre, n)) WITHOUT ROWID;
INSERT INTO genre_song
  SELECT genre, row_number() OVER (PARTITION BY genre ORDER BY seq), seq
  FROM song WHERE genre IS NOT NULL;
CREATE TABLE genre (name TEXT PRIMARY KEY, song_count INTEGER, album_count INTEGER);
INSERT INTO genre
  SELECT g.genre, g.n, (SELECT count(*) FROM album a WHERE a.genre = g.genre)
  FROM (SELECT genre, max(n) AS n FROM genre_song GROUP BY genre) g;
"""


def library_path(archive: Archive) -> Path:
    """Where the server's derived library tables live."""
    return archive.search_dir / LIBRARY_DB


def index_stamp(archive: Archive) -> str:
    """Identity of the published index as it is now (format version, size, mtime)."""
    return _index_stamp(archive)


def _index_stamp(archive: Archive) -> str:
    st = archive.index_db.stat()
    return f"{LIBRARY_VERSION}:{st.st_size}:{st.st_mtime_ns}"


def library_is_current(archive: Archive) -> bool:
    """True when library.sqlite3 was built from the index as it is now."""
    path = library_path(archive)
    if not path.exists() or not archive.index_db.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'index_stamp'").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False
    return row is not None and row[0] == _index_stamp(archive)


def build_library(archive: Archive) -> dict[str, int]:
    """(Re)build library.sqlite3 from the published index atomically; return row counts."""
    ensure_index_db(archive)
    dest = library_path(archive)
    with atomic_path(dest) as tmp:
        con = sqlite3.connect(f"file:{tmp}", uri=True)
        try:
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.execute("PRAGMA temp_store = MEMORY")
            con.execute("ATTACH DATABASE ? AS idx", (f"file:{archive.index_db}?mode=ro",))
            con.executescript(_BUILD)
            con.execute("INSERT INTO meta VALUES ('index_stamp', ?)", (_index_stamp(archive),))
            con.commit()
            counts = {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("artist", "album", "song", "genre")
            }
            con.execute("DETACH DATABASE idx")
        finally:
            con.close()
    return counts
