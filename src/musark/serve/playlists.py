"""Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist."""

from __future__ import annotations

import sqlite3
from typing import Any

from musark.serve import subsonic_ids as sid
from musark.serve.context import Ctx
from musark.serve.errors import NOT_AUTHORIZED, ApiError, not_found
from musark.serve.registry import method
from musark.serve.state import iso


def _entry(row: sqlite3.Row, song_count: int, duration: int) -> dict[str, Any]:
    return {
        "id": sid.make("pl", str(row["id"])),
        "name": row["name"],
        "comment": row["comment"],
        "owner": row["owner"],
        "public": bool(row["public"]),
        "songCount": song_count,
        "duration": duration,
        "created": iso(row["created"]),
        "changed": iso(row["changed"]),
    }


def _load(ctx: Ctx, value: str, *, write: bool) -> tuple[int, sqlite3.Row, list[str]]:
    raw = sid.parse(value, "pl")
    if not raw.isdigit():
        raise not_found("Playlist", value)
    pid = int(raw)
    row, tracks = ctx.state.playlist(pid)
    if row is None:
        raise not_found("Playlist", value)
    is_owner = row["owner"] == ctx.username
    admin = ctx.user is not None and ctx.user.admin
    if not (is_owner or admin or (not write and row["public"])):
        raise ApiError(
            NOT_AUTHORIZED,
            f"User {ctx.username!r} may not {'change' if write else 'read'} playlist {value}",
        )
    return pid, row, tracks


def _song_ids(ctx: Ctx, name: str) -> list[str]:
    raws = [sid.parse(v, "tr") for v in ctx.params.getlist(name)]
    for raw in raws:
        ctx.lib.song(raw)
    return raws


def _full(ctx: Ctx, pid: int) -> dict[str, Any]:
    row, tracks = ctx.state.playlist(pid)
    assert row is not None
    songs = ctx.lib.songs(tracks)
    entry = _entry(row, len(songs), sum(s["duration"] or 0 for s in songs))
    entry["entry"] = ctx.songs(songs)
    return {"playlist": entry}


@method("getPlaylists")
def get_playlists(ctx: Ctx) -> dict[str, Any]:
    """The caller's playlists and the public ones."""
    entries = []
    for row in ctx.state.playlists(ctx.username):
        songs = ctx.lib.songs(ctx.state.playlist(row["id"])[1])
        entries.append(_entry(row, len(songs), sum(s["duration"] or 0 for s in songs)))
    return {"playlists": {"playlist": entries}}


@method("getPlaylist")
def get_playlist(ctx: Ctx) -> dict[str, Any]:
    """One playlist with its songs."""
    pid, _, _ = _load(ctx, ctx.params.require("id"), write=False)
    return _full(ctx, pid)


@method("createPlaylist")
def create_playlist(ctx: Ctx) -> dict[str, Any]:
    """Create a playlist (name) or replace the songs of one (playlistId)."""
    p = ctx.params
    songs = _song_ids(ctx, "songId")
    if p.get("playlistId"):
        pid, _, _ = _load(ctx, p.require("playlistId"), write=True)
        ctx.state.update_playlist(pid, name=p.get("name") or None, tracks=songs)
    else:
        pid = ctx.state.create_playlist(ctx.username, p.require("name"), songs)
    return _full(ctx, pid)


@method("updatePlaylist")
def update_playlist(ctx: Ctx) -> dict[str, Any]:
    """Rename, comment, publish, add songs and remove songs by index."""
    p = ctx.params
    pid, _, tracks = _load(ctx, p.require("playlistId"), write=True)
    remove = {int(i) for i in p.getlist("songIndexToRemove") if i.isdigit()}
    new_tracks = [t for i, t in enumerate(tracks) if i not in remove] + _song_ids(
        ctx, "songIdToAdd"
    )
    public = p.bool("public") if p.get("public") else None
    ctx.state.update_playlist(
        pid, name=p.get("name"), comment=p.get("comment"), public=public, tracks=new_tracks
    )
    return {}


@method("deletePlaylist")
def delete_playlist(ctx: Ctx) -> dict[str, Any]:
    """Delete a playlist (its owner or an admin)."""
    pid, _, _ = _load(ctx, ctx.params.require("id"), write=True)
    ctx.state.delete_playlist(pid)
    return {}
