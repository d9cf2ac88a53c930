"""Free-text lookup ("artist - title") over the archived tracks of the published index.

An FTS5 table (``track_text(track_id UNINDEXED, artist, title)``, unicode61 tokenizer with
diacritics folded) is built with one INSERT … SELECT from the index into
``state/index_text.sqlite3`` on first use and rebuilt when the index changes. It covers only
tracks that have a file (what locate and fetch can act on): at 86 M files that is one sequential
pass, and every later query is an FTS5 lookup ranked by bm25, independent of the row count.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote

from musark.archive import Archive
from musark.console import console
from musark.fsio import TMP_PREFIX, atomic_path
from musark.index.open import ensure_index_db

TEXT_DB = "index_text.sqlite3"
_WORD = re.compile(r"\w+", re.UNICODE)
_SPLIT = re.compile(r"\s+[-–—]\s+")

_BUILD = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE VIRTUAL TABLE track_text USING fts5(
    track_id UNINDEXED, artist, title, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO track_text(track_id, artist, title)
SELECT f.track_id,
       coalesce((SELECT group_concat(a.name, ' ') FROM idx.track_artists ta
                 JOIN idx.artists a ON a.id = ta.artist_id WHERE ta.track_id = f.track_id), ''),
       coalesce(t.name, '')
FROM idx.track_files f JOIN idx.tracks t ON t.id = f.track_id;
INSERT INTO track_text(track_text) VALUES ('optimize');
"""


def sqlite_uri(path: Path, mode: str = "ro") -> str:
    """SQLite URI for ``path`` (quoted, so any file name works) opened in ``mode``."""
    return f"file:{quote(str(path))}?mode={mode}"


def _identity(index_db: Path) -> str:
    st = index_db.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _phrase(words: list[str], prefix_last: bool) -> str:
    quoted = [f'"{w}"' for w in words]
    if prefix_last and quoted:
        quoted[-1] += "*"
    return " ".join(quoted)


def fts_query(text: str) -> str | None:
    """Translate ``artist - title`` (or any words) into an FTS5 MATCH expression; None if no words."""
    parts = _SPLIT.split(text.strip(), maxsplit=1)
    if len(parts) == 2:
        artist, title = (_WORD.findall(p.lower()) for p in parts)
        if artist and title:
            return f"artist : ({_phrase(artist, False)}) AND title : ({_phrase(title, True)})"
    words = _WORD.findall(text.lower())
    return _phrase(words, True) if words else None


class TextSearch:
    """Callable ``search(text, limit) -> [track_id]`` over one archive's index."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.path = archive.state_dir / TEXT_DB
        self._con: sqlite3.Connection | None = None

    def _current(self, ident: str) -> bool:
        if not self.path.exists():
            return False
        try:
            with contextlib.closing(sqlite3.connect(sqlite_uri(self.path), uri=True)) as con:
                row = con.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
        except sqlite3.DatabaseError:
            return False
        return row is not None and row[0] == ident

    def build(self) -> Path:
        """Build (or rebuild when the index changed) the FTS5 table; return its path."""
        ensure_index_db(self.archive)
        index_db = self.archive.index_db
        ident = _identity(index_db)
        if self._current(ident):
            return self.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A build killed midway leaves its temporary file (possibly GBs); only builds make these.
        for stale in self.path.parent.glob(f"{TMP_PREFIX}*{self.path.suffix}"):
            stale.unlink(missing_ok=True)
        with (
            console.status("building the free-text table (once per index)"),
            atomic_path(self.path) as tmp,
        ):
            tmp.unlink()
            con = sqlite3.connect(sqlite_uri(tmp, "rwc"), uri=True)
            try:
                con.execute("PRAGMA journal_mode = OFF")
                con.execute("PRAGMA synchronous = OFF")
                con.execute("ATTACH DATABASE ? AS idx", (sqlite_uri(index_db),))
                con.executescript(_BUILD)
                con.execute("INSERT INTO meta VALUES ('source', ?)", (ident,))
                con.commit()
                con.execute("DETACH DATABASE idx")
            finally:
                con.close()
        return self.path

    def __call__(self, text: str, limit: int = 20) -> list[str]:
        """Track ids matching ``text``, best first."""
        match = fts_query(text)
        if match is None:
            return []
        if self._con is None:
            self.build()
            self._con = sqlite3.connect(sqlite_uri(self.path), uri=True, check_same_thread=False)
        rows = self._con.execute(
            "SELECT track_id FROM track_text WHERE track_text MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        )
        return [r[0] for r in rows]
