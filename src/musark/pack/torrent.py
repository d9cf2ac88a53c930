"""Metainfo (.torrent) construction for v1 / v2 / hybrid, info-hashes and magnet links."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha1, sha256
from typing import Any
from urllib.parse import quote

from musark import __version__
from musark.pack.bencode import bencode
from musark.pack.hashing import Digests
from musark.pack.layout import Layout

CREATED_BY = f"musark {__version__}"


@dataclass(frozen=True)
class Options:
    """Everything outside the files that shapes a torrent's bytes."""

    trackers: tuple[str, ...] = ()
    web_seeds: tuple[str, ...] = ()
    creation_date: int | None = None  # seconds since the epoch; None = omitted (deterministic)


def _file_tree(layout: Layout, digests: Digests) -> dict[bytes, Any]:
    tree: dict[bytes, Any] = {}
    for e in layout.files:
        node = tree
        for part in e.path.split("/"):
            node = node.setdefault(part.encode("utf-8"), {})
        leaf: dict[str, Any] = {"length": e.size}
        if e.size:
            leaf["pieces root"] = digests.roots[e.path]
        node[b""] = leaf
    return tree


def build_info(layout: Layout, digests: Digests, name: str) -> dict[str, Any]:
    """The info dictionary (what the info-hashes are computed over)."""
    info: dict[str, Any] = {"name": name, "piece length": layout.piece_size}
    if layout.fmt != "v2":
        files = []
        for e in layout.entries:
            if e.pad:
                files.append({"attr": "p", "length": e.size, "path": [".pad", str(e.size)]})
            else:
                files.append({"length": e.size, "path": e.path.split("/")})
        info["files"] = files
        info["pieces"] = digests.pieces
    if layout.fmt != "v1":
        info["meta version"] = 2
        info["file tree"] = _file_tree(layout, digests)
    return info


def build_metainfo(
    layout: Layout, digests: Digests, name: str, options: Options = Options()
) -> dict[str, Any]:
    """The whole metainfo dictionary of one torrent."""
    meta: dict[str, Any] = {
        "created by": CREATED_BY,
        "info": build_info(layout, digests, name),
    }
    if options.creation_date is not None:
        meta["creation date"] = int(options.creation_date)
    if options.trackers:
        meta["announce"] = options.trackers[0]
        meta["announce-list"] = [[t] for t in options.trackers]
    if options.web_seeds:
        meta["url-list"] = list(options.web_seeds)
    if layout.fmt != "v1":
        meta["piece layers"] = {
            digests.roots[path]: layer for path, layer in sorted(digests.layers.items())
        }
    return meta


def hashes_of_info(raw: bytes, fmt: str) -> tuple[str, str | None]:
    """(btih hex, btmh multihash hex or None) of a bencoded info dict. A v2-only torrent's btih
    is its truncated SHA-256, the id it uses on the wire."""
    v2 = sha256(raw).hexdigest() if fmt != "v1" else None
    btih = v2[:40] if fmt == "v2" and v2 else sha1(raw).hexdigest()
    return btih, ("1220" + v2 if v2 else None)


def info_hashes(meta: dict[str, Any]) -> tuple[str, str | None]:
    """(btih, btmh) of a metainfo dictionary."""
    info = meta["info"]
    fmt = "v1" if "meta version" not in info else "hybrid" if "pieces" in info else "v2"
    return hashes_of_info(bencode(info), fmt)


def magnet_link(
    btih: str,
    btmh: str | None,
    display_name: str,
    trackers: tuple[str, ...] | list[str] = (),
    web_seeds: tuple[str, ...] | list[str] = (),
    *,
    v1: bool = True,
) -> str:
    """A magnet URI carrying xt (btih and/or btmh), dn, tr and ws."""
    parts = []
    if v1:
        parts.append(f"xt=urn:btih:{btih}")
    if btmh:
        parts.append(f"xt=urn:btmh:{btmh}")
    parts.append(f"dn={quote(display_name, safe='')}")
    parts += [f"tr={quote(t, safe='')}" for t in trackers]
    parts += [f"ws={quote(w, safe='')}" for w in web_seeds]
    return "magnet:?" + "&".join(parts)
