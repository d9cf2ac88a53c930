"""Media retrieval: stream (Range, Opus transcoding), download, getCoverArt, getLyrics."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, Response, StreamingResponse

from musark.serve import subsonic_ids as sid
from musark.serve.context import Ctx
from musark.serve.coverart import MAX_SIZE
from musark.serve.errors import NOT_FOUND, ApiError, bad_value
from musark.serve.library import CONTENT_TYPES
from musark.serve.registry import method
from musark.serve.transcode import opus_stream

TRANSCODE_FORMATS = ("opus", "ogg")


def _file(ctx: Ctx, song: sqlite3.Row) -> Path:
    path = ctx.lib.file_path(song)
    if path is not None and path.is_file():
        return path
    if path is None:
        raise ApiError(NOT_FOUND, f"Song tr-{song['id']} has no file in the archive (not archived)")
    raise ApiError(
        NOT_FOUND,
        f"Song tr-{song['id']} is in the index but its file is not in this mirror "
        f"(batch {song['batch']}, {song['path']}); fetch it with `musark fetch {song['id']}`",
    )


def _raw(path: Path) -> Response:
    ctype = CONTENT_TYPES.get(path.suffix.lstrip("."), "application/octet-stream")
    return FileResponse(path, media_type=ctype, headers={"Accept-Ranges": "bytes"})


@method("stream")
def stream(ctx: Ctx) -> Response:
    """The song's file (with HTTP Range), or Ogg Opus made on the fly for format/maxBitRate.

    ``timeOffset`` (seconds, OpenSubsonic ``transcodeOffset``) starts a transcode that far in.
    """
    p = ctx.params
    song = ctx.lib.song(sid.parse(p.require("id"), "tr"))
    path = _file(ctx, song)
    fmt = (p.get("format") or "").lower()
    max_kbps = p.int("maxBitRate", 0, hi=10_000) or 0
    if fmt and fmt != "raw" and fmt not in TRANSCODE_FORMATS:
        raise bad_value("format", fmt, "supported: raw, opus")
    kbps = song["kbps"] or 0
    wants_opus = fmt in TRANSCODE_FORMATS
    too_big = max_kbps > 0 and (kbps == 0 or kbps > max_kbps)
    ctx.state.now_playing_set(ctx.username, p.get("c") or "unknown", song["id"])
    offset = p.int("timeOffset", 0, hi=10**7) or 0
    if fmt != "raw" and (wants_opus or too_big or offset > 0):
        target = max_kbps if max_kbps > 0 else min(kbps or 128, 128)
        return StreamingResponse(opus_stream(path, target, float(offset)), media_type="audio/ogg")
    return _raw(path)


@method("download")
def download(ctx: Ctx) -> Response:
    """The song's file as archived, byte for byte."""
    song = ctx.lib.song(sid.parse(ctx.params.require("id"), "tr"))
    path = _file(ctx, song)
    resp = _raw(path)
    resp.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return resp


@method("getCoverArt")
def get_cover_art(ctx: Ctx) -> Response:
    """Cover of an album, song or artist, at most ``size`` pixels (1..2048) on the long side."""
    p = ctx.params
    value = p.require("id")
    size = p.int("size", None, lo=1, hi=MAX_SIZE)
    kind, raw = sid.split(value)
    found = ctx.server.covers.get(kind, raw, size)
    if found is None:
        raise ApiError(NOT_FOUND, f"Cover art not found: {value} (no picture in its files)")
    data, ctype = found
    return Response(data, media_type=ctype, headers={"Cache-Control": "max-age=86400"})


@method("getLyrics")
def get_lyrics(ctx: Ctx) -> dict[str, Any]:
    """The index holds no lyrics: an empty answer, as the API allows."""
    p = ctx.params
    return {"lyrics": {"artist": p.get("artist"), "title": p.get("title"), "value": ""}}
