"""search2 and search3: full-text search, and with an empty query a flat-cost walk over the library."""

from __future__ import annotations

from typing import Any

from musark.serve.context import Ctx
from musark.serve.registry import method

# Full-sync clients ask for large pages; larger counts are clamped, not refused.
MAX_COUNT = 2000


def _page(ctx: Ctx, table: str, count: int, offset: int) -> list[str]:
    # seq is dense (1..N), so `seq > offset` finds page N in O(log N): no OFFSET scan.
    rows = ctx.lib.all(
        f"SELECT id FROM {table} WHERE seq > ? ORDER BY seq LIMIT ?", (offset, count)
    )
    return [r[0] for r in rows]


def _ids(ctx: Ctx, kind: str, table: str, text: str) -> list[str]:
    p = ctx.params
    count = min(p.int(f"{kind}Count", 20) or 0, MAX_COUNT)
    offset = p.int(f"{kind}Offset", 0) or 0
    if count == 0:
        return []
    if not text:
        return _page(ctx, table, count, offset)
    return ctx.server.searcher.search("song" if kind == "song" else kind, text, count, offset)


def _search(ctx: Ctx, *, legacy: bool) -> dict[str, Any]:
    if not ctx.params.has("query"):
        ctx.params.require("query")
    text = ctx.params.query_text()
    artists = ctx.lib.artists(_ids(ctx, "artist", "artist", text))
    albums = ctx.lib.albums(_ids(ctx, "album", "album", text))
    songs = ctx.lib.songs(_ids(ctx, "song", "song", text))
    artist_entries = ctx.artists(artists)
    if legacy:
        artist_entries = [{"id": a["id"], "name": a["name"]} for a in artist_entries]
    return {
        "artist": artist_entries,
        "album": ctx.albums(albums, as_dir=legacy),
        "song": ctx.songs(songs),
    }


@method("search3")
def search3(ctx: Ctx) -> dict[str, Any]:
    """Artists, albums and songs matching ``query`` (ID3); empty query pages the whole library."""
    return {"searchResult3": _search(ctx, legacy=False)}


@method("search2")
def search2(ctx: Ctx) -> dict[str, Any]:
    """search3's folder-style twin."""
    return {"searchResult2": _search(ctx, legacy=True)}
