"""Browsing: getIndexes, getArtists, getArtist, getAlbum, getSong, getMusicDirectory, info, genres."""

from __future__ import annotations

import unicodedata
from typing import Any

from musark.serve import subsonic_ids as sid
from musark.serve.context import Ctx
from musark.serve.errors import not_found
from musark.serve.registry import method

IGNORED_ARTICLES = "The El La Los Las Le Les"


_ARTICLES = tuple(f"{a.lower()} " for a in IGNORED_ARTICLES.split())


def _letter(name: str) -> str:
    """Index letter of a name: articles skipped ("The Quiet Ones" → Q), accents folded, else #."""
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().strip()
    for article in _ARTICLES:
        if folded.lower().startswith(article) and len(folded) > len(article):
            folded = folded[len(article) :].lstrip()
            break
    first = folded[:1].upper()
    return first if first.isalpha() else "#"


def _indexed(ctx: Ctx, *, legacy: bool) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    rows = ctx.lib.all("SELECT * FROM artist ORDER BY seq")
    entries = ctx.artists(rows)
    for row, entry in zip(rows, entries, strict=True):
        if legacy:
            entry = {"id": entry["id"], "name": entry["name"], "starred": entry["starred"]}
        groups.setdefault(_letter(row["name"]), []).append(entry)
    return [{"name": k, "artist": v} for k, v in sorted(groups.items())]


@method("getArtists")
def get_artists(ctx: Ctx) -> dict[str, Any]:
    """Every artist, grouped by initial letter."""
    return {"artists": {"ignoredArticles": IGNORED_ARTICLES, "index": _indexed(ctx, legacy=False)}}


@method("getIndexes")
def get_indexes(ctx: Ctx) -> dict[str, Any]:
    """Every artist as a folder-style index (legacy browsing)."""
    return {
        "indexes": {
            "lastModified": int(ctx.lib.archive.index_db.stat().st_mtime * 1000),
            "ignoredArticles": IGNORED_ARTICLES,
            "index": _indexed(ctx, legacy=True),
        }
    }


@method("getArtist")
def get_artist(ctx: Ctx) -> dict[str, Any]:
    """One artist with the albums they appear on."""
    raw = sid.parse(ctx.params.require("id"), "ar")
    artist = ctx.lib.artist(raw)
    entry = ctx.artists([artist])[0]
    entry["album"] = ctx.albums(ctx.lib.artist_albums(raw))
    return {"artist": entry}


@method("getAlbum")
def get_album(ctx: Ctx) -> dict[str, Any]:
    """One album with its songs."""
    raw = sid.parse(ctx.params.require("id"), "al")
    album = ctx.lib.album(raw)
    entry = ctx.albums([album])[0]
    entry["song"] = ctx.songs(ctx.lib.album_songs(raw))
    return {"album": entry}


@method("getSong")
def get_song(ctx: Ctx) -> dict[str, Any]:
    """One song."""
    raw = sid.parse(ctx.params.require("id"), "tr")
    return {"song": ctx.songs([ctx.lib.song(raw)])[0]}


@method("getMusicDirectory")
def get_music_directory(ctx: Ctx) -> dict[str, Any]:
    """An artist as a folder of albums, or an album as a folder of songs."""
    value = ctx.params.require("id")
    prefix, raw = sid.split(value)
    if prefix == "ar":
        artist = ctx.lib.artist(raw)
        children = ctx.albums(ctx.lib.artist_albums(raw), as_dir=True)
        return {"directory": {"id": value, "name": artist["name"], "child": children}}
    if prefix == "al":
        album = ctx.lib.album(raw)
        return {
            "directory": {
                "id": value,
                "parent": sid.make("ar", album["artist_id"]) if album["artist_id"] else None,
                "name": album["name"],
                "child": ctx.songs(ctx.lib.album_songs(raw)),
            }
        }
    raise not_found("Directory", value)


def _artist_info(ctx: Ctx) -> dict[str, Any]:
    raw = sid.parse(ctx.params.require("id"), "ar")
    ctx.lib.artist(raw)
    return {"biography": "", "musicBrainzId": None}


@method("getArtistInfo2")
def get_artist_info2(ctx: Ctx) -> dict[str, Any]:
    """Artist information: the index has no biographies, so the fields are empty."""
    return {"artistInfo2": _artist_info(ctx)}


@method("getArtistInfo")
def get_artist_info(ctx: Ctx) -> dict[str, Any]:
    """Legacy form of getArtistInfo2."""
    return {"artistInfo": _artist_info(ctx)}


def _album_info(ctx: Ctx) -> dict[str, Any]:
    raw = sid.parse(ctx.params.require("id"), "al")
    album = ctx.lib.album(raw)
    notes = " · ".join(x for x in (album["label"], album["release_date"]) if x)
    return {"notes": notes}


@method("getAlbumInfo2")
def get_album_info2(ctx: Ctx) -> dict[str, Any]:
    """Album notes from the index (label, release date)."""
    return {"albumInfo": _album_info(ctx)}


@method("getAlbumInfo")
def get_album_info(ctx: Ctx) -> dict[str, Any]:
    """Legacy form of getAlbumInfo2."""
    return {"albumInfo": _album_info(ctx)}


@method("getGenres")
def get_genres(ctx: Ctx) -> dict[str, Any]:
    """Every genre with its song and album counts."""
    rows = ctx.lib.all("SELECT * FROM genre ORDER BY name")
    return {
        "genres": {
            "genre": [
                {"songCount": r["song_count"], "albumCount": r["album_count"], "value": r["name"]}
                for r in rows
            ]
        }
    }
