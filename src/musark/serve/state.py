"""Listener state in ``state/serve.sqlite3``: stars, play counts, scrobbles, playlists, now playing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from musark.archive import Archive
from musark.serve.dbconn import PerThread

STATE_DB = "serve.sqlite3"
NOW_PLAYING_S = 600

_DDL = """
CREATE TABLE IF NOT EXISTS stars (
    user TEXT NOT NULL, kind TEXT NOT NULL, item_id TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (user, kind, item_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS plays (
    user TEXT NOT NULL, track_id TEXT NOT NULL, count INTEGER NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (user, track_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS plays_last ON plays(user, last);
CREATE TABLE IF NOT EXISTS scrobbles (
    user TEXT NOT NULL, track_id TEXT NOT NULL, time INTEGER NOT NULL, submission INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS now_playing (
    user TEXT NOT NULL, player TEXT NOT NULL, track_id TEXT NOT NULL, started INTEGER NOT NULL,
    PRIMARY KEY (user, player)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS playlists (
    id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, comment TEXT,
    public INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL, changed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS playlist_tracks (
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, track_id TEXT NOT NULL, PRIMARY KEY (playlist_id, position));
"""


def iso(ts: int | float | None) -> str | None:
    """Subsonic date-time text for a Unix time."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class State:
    """Per-user state of one server; one SQLite connection per thread."""

    def __init__(self, archive: Archive) -> None:
        archive.state_dir.mkdir(parents=True, exist_ok=True)
        self.path = archive.state_dir / STATE_DB
        self._db = PerThread(str(self.path))
        with self.con() as con:
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(_DDL)

    def con(self) -> sqlite3.Connection:
        """This thread's connection (used as a transaction context)."""
        return self._db.get()

    # stars
    def star(self, user: str, kind: str, ids: Iterable[str]) -> None:
        """Star items of ``kind`` (song, album, artist) for ``user``."""
        now = int(time.time())
        with self.con() as con:
            con.executemany(
                "INSERT OR IGNORE INTO stars VALUES (?, ?, ?, ?)",
                [(user, kind, i, now) for i in ids],
            )

    def unstar(self, user: str, kind: str, ids: Iterable[str]) -> None:
        """Remove stars."""
        with self.con() as con:
            con.executemany(
                "DELETE FROM stars WHERE user = ? AND kind = ? AND item_id = ?",
                [(user, kind, i) for i in ids],
            )

    def starred(self, user: str, kind: str) -> list[tuple[str, int]]:
        """(id, time) of every item of ``kind`` that ``user`` starred, newest first."""
        return (
            self.con()
            .execute(
                "SELECT item_id, created FROM stars WHERE user = ? AND kind = ? ORDER BY created DESC, item_id",
                (user, kind),
            )
            .fetchall()
        )

    def stars_of(self, user: str, kind: str, ids: Sequence[str]) -> dict[str, int]:
        """Star times of those of ``ids`` that ``user`` starred."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.con().execute(
            f"SELECT item_id, created FROM stars WHERE user = ? AND kind = ? AND item_id IN ({marks})",
            (user, kind, *ids),
        )
        return dict(rows.fetchall())

    # plays
    def plays_of(self, user: str, ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(count, last played) of those of ``ids`` that ``user`` played."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.con().execute(
            f"SELECT track_id, count, last FROM plays WHERE user = ? AND track_id IN ({marks})",
            (user, *ids),
        )
        return {t: (c, last) for t, c, last in rows}

    def scrobble(
        self, user: str, track_ids: Sequence[str], times: Sequence[int], submission: bool
    ) -> None:
        """Record plays (submission) or a now-playing notification."""
        with self.con() as con:
            for track_id, ts in zip(track_ids, times, strict=True):
                con.execute(
                    "INSERT INTO scrobbles VALUES (?, ?, ?, ?)",
                    (user, track_id, ts, int(submission)),
                )
                if submission:
                    con.execute(
                        "INSERT INTO plays VALUES (?, ?, 1, ?) ON CONFLICT(user, track_id) "
                        "DO UPDATE SET count = count + 1, last = max(last, excluded.last)",
                        (user, track_id, ts),
                    )
                else:
                    self.now_playing_set(user, "default", track_id, ts)

    def now_playing_set(self, user: str, player: str, track_id: str, ts: int | None = None) -> None:
        """Mark ``track_id`` as playing for ``user`` on ``player``."""
        with self.con() as con:
            con.execute(
                "INSERT OR REPLACE INTO now_playing VALUES (?, ?, ?, ?)",
                (user, player, track_id, int(ts or time.time())),
            )

    def now_playing(self) -> list[tuple[str, str, str, int]]:
        """(user, player, track, started) of recent plays of every user."""
        cutoff = int(time.time()) - NOW_PLAYING_S
        return (
            self.con()
            .execute(
                "SELECT user, player, track_id, started FROM now_playing WHERE started >= ? ORDER BY started DESC",
                (cutoff,),
            )
            .fetchall()
        )

    def most_played(self, user: str, *, recent: bool, count: int, offset: int) -> list[str]:
        """Track ids ``user`` played most (or most recently)."""
        order = "last DESC" if recent else "count DESC, last DESC"
        rows = self.con().execute(
            f"SELECT track_id FROM plays WHERE user = ? ORDER BY {order} LIMIT ? OFFSET ?",
            (user, count, offset),
        )
        return [r[0] for r in rows]

    # playlists
    def playlists(self, user: str) -> list[sqlite3.Row]:
        """Playlists ``user`` owns or that are public."""
        con = self.con()
        con.row_factory = sqlite3.Row
        try:
            return con.execute(
                "SELECT p.*, (SELECT count(*) FROM playlist_tracks t WHERE t.playlist_id = p.id) AS n "
                "FROM playlists p WHERE owner = ? OR public = 1 ORDER BY p.id",
                (user,),
            ).fetchall()
        finally:
            con.row_factory = None

    def playlist(self, pid: int) -> tuple[sqlite3.Row | None, list[str]]:
        """A playlist row and its track ids in order."""
        con = self.con()
        con.row_factory = sqlite3.Row
        try:
            row = con.execute("SELECT * FROM playlists WHERE id = ?", (pid,)).fetchone()
        finally:
            con.row_factory = None
        tracks = [
            r[0]
            for r in con.execute(
                "SELECT track_id FROM playlist_tracks WHERE playlist_id = ? ORDER BY position",
                (pid,),
            )
        ]
        return row, tracks

    def create_playlist(self, owner: str, name: str, tracks: Sequence[str]) -> int:
        """Create a playlist; return its id."""
        now = int(time.time())
        with self.con() as con:
            cur = con.execute(
                "INSERT INTO playlists(owner, name, created, changed) VALUES (?, ?, ?, ?)",
                (owner, name, now, now),
            )
            pid = int(cur.lastrowid or 0)
            self._set_tracks(con, pid, tracks)
        return pid

    def _set_tracks(self, con: sqlite3.Connection, pid: int, tracks: Sequence[str]) -> None:
        con.execute("DELETE FROM playlist_tracks WHERE playlist_id = ?", (pid,))
        con.executemany(
            "INSERT INTO playlist_tracks VALUES (?, ?, ?)",
            [(pid, i, t) for i, t in enumerate(tracks)],
        )

    def update_playlist(
        self,
        pid: int,
        *,
        name: str | None = None,
        comment: str | None = None,
        public: bool | None = None,
        tracks: Sequence[str] | None = None,
    ) -> None:
        """Change a playlist's fields and/or replace its tracks."""
        with self.con() as con:
            if name is not None:
                con.execute("UPDATE playlists SET name = ? WHERE id = ?", (name, pid))
            if comment is not None:
                con.execute("UPDATE playlists SET comment = ? WHERE id = ?", (comment, pid))
            if public is not None:
                con.execute("UPDATE playlists SET public = ? WHERE id = ?", (int(public), pid))
            if tracks is not None:
                self._set_tracks(con, pid, tracks)
            con.execute("UPDATE playlists SET changed = ? WHERE id = ?", (int(time.time()), pid))

    def delete_playlist(self, pid: int) -> None:
        """Delete a playlist and its entries."""
        with self.con() as con:
            con.execute("DELETE FROM playlists WHERE id = ?", (pid,))
