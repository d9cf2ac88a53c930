"""Lists: getAlbumList(2), getRandomSongs (a true uniform draw), getSongsByGenre, getStarred(2), getNowPlaying."""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

from musark.serve import subsonic_ids as sid
from musark.serve.context import Ctx
from musark.serve.errors import bad_value
from musark.serve.registry import method

# Larger requests are clamped, as Subsonic servers do, rather than refused.
MAX_SIZE = 500
LIST_TYPES = (
    "random",
    "newest",
    "highest",
    "frequent",
    "recent",
    "starred",
    "alphabeticalByName",
    "alphabeticalByArtist",
    "byYear",
    "byGenre",
)
_rng = random.SystemRandom()


def _draw(total: int, k: int) -> list[int]:
    """k distinct uniform positions in [0, total)."""
    return _rng.sample(range(total), min(k, total)) if total > 0 else []


def _by_seq(ctx: Ctx, table: str, seqs: list[int]) -> list[sqlite3.Row]:
    if not seqs:
        return []
    marks = ",".join("?" * len(seqs))
    rows = {r["seq"]: r for r in ctx.lib.all(f"SELECT * FROM {table} WHERE seq IN ({marks})", seqs)}
    return [rows[s] for s in seqs if s in rows]


def _album_rows(ctx: Ctx) -> list[sqlite3.Row]:
    p, lib = ctx.params, ctx.lib
    kind = p.require("type")
    size = min(p.int("size", 10) or 0, MAX_SIZE)
    offset = p.int("offset", 0) or 0
    if kind == "random":
        return _by_seq(ctx, "album", [i + 1 for i in _draw(lib.count("album"), size)])
    if kind == "alphabeticalByName":
        return lib.all("SELECT * FROM album WHERE seq > ? ORDER BY seq LIMIT ?", (offset, size))
    if kind == "newest":
        sql = "SELECT * FROM album ORDER BY release_date DESC, id LIMIT ? OFFSET ?"
        return lib.all(sql, (size, offset))
    if kind == "highest":
        sql = "SELECT * FROM album ORDER BY popularity DESC, id LIMIT ? OFFSET ?"
        return lib.all(sql, (size, offset))
    if kind == "alphabeticalByArtist":
        sql = "SELECT * FROM album ORDER BY artist COLLATE NOCASE, name COLLATE NOCASE LIMIT ? OFFSET ?"
        return lib.all(sql, (size, offset))
    if kind == "byYear":
        lo = p.int("fromYear", lo=-9999, hi=9999)
        hi = p.int("toYear", lo=-9999, hi=9999)
        if lo is None:
            p.require("fromYear")
        if hi is None:
            p.require("toYear")
        order = "DESC" if lo > hi else "ASC"  # type: ignore[operator]
        sql = (
            f"SELECT * FROM album WHERE year BETWEEN ? AND ? "
            f"ORDER BY year {order}, name COLLATE NOCASE LIMIT ? OFFSET ?"
        )
        return lib.all(sql, (min(lo, hi), max(lo, hi), size, offset))  # type: ignore[type-var]
    if kind == "byGenre":
        genre = p.require("genre")
        sql = "SELECT * FROM album WHERE genre = ? ORDER BY name COLLATE NOCASE LIMIT ? OFFSET ?"
        return lib.all(sql, (genre, size, offset))
    if kind == "starred":
        ids = [i for i, _ in ctx.state.starred(ctx.username, "album")][offset : offset + size]
        return lib.albums(ids)
    if kind in ("frequent", "recent"):
        tracks = ctx.state.most_played(
            ctx.username, recent=kind == "recent", count=50 * (offset + size), offset=0
        )
        album_ids = list(dict.fromkeys(s["album_id"] for s in lib.songs(tracks) if s["album_id"]))
        return lib.albums(album_ids[offset : offset + size])
    raise bad_value("type", kind, f"one of {', '.join(LIST_TYPES)}")


@method("getAlbumList2")
def get_album_list2(ctx: Ctx) -> dict[str, Any]:
    """Albums by list type (ID3)."""
    return {"albumList2": {"album": ctx.albums(_album_rows(ctx))}}


@method("getAlbumList")
def get_album_list(ctx: Ctx) -> dict[str, Any]:
    """Albums by list type (folder-style)."""
    return {"albumList": {"album": ctx.albums(_album_rows(ctx), as_dir=True)}}


def _random_seqs(
    ctx: Ctx, size: int, genre: str | None, lo: int | None, hi: int | None
) -> list[int]:
    lib = ctx.lib
    if genre and (lo is not None or hi is not None):
        # Both filters: a uniform draw within the genre's songs in the year range.
        rows = lib.all(
            "SELECT g.seq FROM genre_song g JOIN song s ON s.seq = g.seq "
            "WHERE g.genre = ? AND s.year BETWEEN ? AND ? ORDER BY random() LIMIT ?",
            (genre, lo if lo is not None else -9999, hi if hi is not None else 9999, size),
        )
        return [r[0] for r in rows]
    if genre:
        row = lib.one("SELECT song_count FROM genre WHERE name = ?", (genre,))
        ns = [n + 1 for n in _draw(int(row[0]) if row else 0, size)]
        if not ns:
            return []
        marks = ",".join("?" * len(ns))
        found = dict(
            lib.con().execute(
                f"SELECT n, seq FROM genre_song WHERE genre = ? AND n IN ({marks})", (genre, *ns)
            )
        )
        return [found[n] for n in ns if n in found]
    if lo is not None or hi is not None:
        # Songs are numbered in year order: the range is a union of contiguous seq ranges.
        ranges = lib.all(
            "SELECT lo, hi FROM year_range WHERE year BETWEEN ? AND ? ORDER BY lo",
            (lo if lo is not None else -9999, hi if hi is not None else 9999),
        )
        spans = [(r["lo"], r["hi"] - r["lo"] + 1) for r in ranges]
        picks, total = [], sum(n for _, n in spans)
        for pos in _draw(total, size):
            for start, n in spans:
                if pos < n:
                    picks.append(start + pos)
                    break
                pos -= n
        return picks
    return [i + 1 for i in _draw(lib.count("song"), size)]


@method("getRandomSongs")
def get_random_songs(ctx: Ctx) -> dict[str, Any]:
    """``size`` songs drawn uniformly from the whole archive (optionally a genre / year range)."""
    p = ctx.params
    size = min(p.int("size", 10) or 0, MAX_SIZE)
    lo = p.int("fromYear", lo=-9999, hi=9999)
    hi = p.int("toYear", lo=-9999, hi=9999)
    seqs = _random_seqs(ctx, size, p.get("genre") or None, lo, hi)
    return {"randomSongs": {"song": ctx.songs(_by_seq(ctx, "song", seqs))}}


@method("getSongsByGenre")
def get_songs_by_genre(ctx: Ctx) -> dict[str, Any]:
    """Songs of a genre, paged at a cost flat in the offset."""
    p = ctx.params
    genre = p.require("genre")
    count = min(p.int("count", 10) or 0, MAX_SIZE)
    offset = p.int("offset", 0) or 0
    rows = ctx.lib.all(
        "SELECT s.* FROM genre_song g JOIN song s ON s.seq = g.seq "
        "WHERE g.genre = ? AND g.n > ? ORDER BY g.n LIMIT ?",
        (genre, offset, count),
    )
    return {"songsByGenre": {"song": ctx.songs(rows)}}


def _starred(ctx: Ctx, *, legacy: bool) -> dict[str, Any]:
    st, lib, user = ctx.state, ctx.lib, ctx.username
    artists = ctx.artists(lib.artists([i for i, _ in st.starred(user, "artist")]))
    if legacy:
        artists = [{"id": a["id"], "name": a["name"], "starred": a["starred"]} for a in artists]
    return {
        "artist": artists,
        "album": ctx.albums(lib.albums([i for i, _ in st.starred(user, "album")]), as_dir=legacy),
        "song": ctx.songs(lib.songs([i for i, _ in st.starred(user, "song")])),
    }


@method("getStarred2")
def get_starred2(ctx: Ctx) -> dict[str, Any]:
    """The caller's starred artists, albums and songs (ID3)."""
    return {"starred2": _starred(ctx, legacy=False)}


@method("getStarred")
def get_starred(ctx: Ctx) -> dict[str, Any]:
    """The caller's starred items (folder-style)."""
    return {"starred": _starred(ctx, legacy=True)}


@method("getNowPlaying")
def get_now_playing(ctx: Ctx) -> dict[str, Any]:
    """What every user played in the last minutes."""
    rows = ctx.state.now_playing()
    songs = {s["id"]: s for s in ctx.lib.songs([t for _, _, t, _ in rows])}
    now = time.time()
    entries = []
    for user, player, track, started in rows:
        if track not in songs:
            continue
        entry = ctx.songs([songs[track]])[0]
        entry.update(
            {
                "username": user,
                "minutesAgo": int((now - started) // 60),
                "playerId": 1,
                "playerName": player,
            }
        )
        entries.append(entry)
    return {"nowPlaying": {"entry": entries}}


__all__ = ["sid"]
