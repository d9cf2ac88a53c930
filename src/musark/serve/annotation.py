"""Annotation: star, unstar, scrobble."""

from __future__ import annotations

import time
from typing import Any

from musark.serve import subsonic_ids as sid
from musark.serve.context import Ctx
from musark.serve.errors import missing, not_found
from musark.serve.registry import method

_KINDS = {"tr": "song", "al": "album", "ar": "artist"}


def _targets(ctx: Ctx) -> dict[str, list[str]]:
    p, lib = ctx.params, ctx.lib
    out: dict[str, list[str]] = {"song": [], "album": [], "artist": []}
    for value in p.getlist("id"):
        prefix, raw = sid.split(value)
        if prefix not in _KINDS:
            raise not_found("Item", value)
        out[_KINDS[prefix]].append(raw)
    out["album"] += [sid.parse(v, "al") for v in p.getlist("albumId")]
    out["artist"] += [sid.parse(v, "ar") for v in p.getlist("artistId")]
    if not any(out.values()):
        raise missing("id")
    for raw in out["song"]:
        lib.song(raw)
    for raw in out["album"]:
        lib.album(raw)
    for raw in out["artist"]:
        lib.artist(raw)
    return out


@method("star")
def star(ctx: Ctx) -> dict[str, Any]:
    """Star songs (id), albums (albumId or al- id) and artists (artistId or ar- id)."""
    for kind, ids in _targets(ctx).items():
        ctx.state.star(ctx.username, kind, ids)
    return {}


@method("unstar")
def unstar(ctx: Ctx) -> dict[str, Any]:
    """Remove stars."""
    for kind, ids in _targets(ctx).items():
        ctx.state.unstar(ctx.username, kind, ids)
    return {}


@method("scrobble")
def scrobble(ctx: Ctx) -> dict[str, Any]:
    """Record plays (submission=true, the default) or now-playing notifications."""
    p = ctx.params
    values = p.getlist("id")
    if not values:
        raise missing("id")
    raws = [sid.parse(v, "tr") for v in values]
    for raw in raws:
        ctx.lib.song(raw)
    now = int(time.time())
    times = [int(t) // 1000 for t in p.getlist("time") if t.isdigit()]
    if len(times) != len(raws):
        times = [now] * len(raws)
    ctx.state.scrobble(ctx.username, raws, times, p.bool("submission", True))
    return {}
