"""Build one torrent from a file list: piece size, single-pass hashing, metainfo, info-hashes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import libtorrent as lt

from musark.pack.bencode import Raw, bencode
from musark.pack.hashing import Digests, hash_layout
from musark.pack.layout import Entry, Layout, make_layout
from musark.pack.piece_size import choose_piece_size
from musark.pack.torrent import Options, build_metainfo, hashes_of_info


@dataclass
class Built:
    """A torrent built in memory, not yet written anywhere."""

    name: str
    layout: Layout
    digests: Digests
    data: bytes  # the .torrent file's bytes
    btih: str
    btmh: str | None
    warning: str | None = None

    @property
    def data_size(self) -> int:
        return sum(e.size for e in self.layout.files)


def build_torrent(
    name: str,
    files: list[Entry],
    *,
    fmt: str,
    piece_size: int | None,
    options: Options,
    contents: Mapping[str, bytes] | None = None,
    late: Callable[[dict[str, str]], Mapping[str, bytes]] | None = None,
    sha256_paths: set[str] | None = None,
    advance: Callable[[int], None] | None = None,
) -> Built:
    """Hash ``files`` once and return the torrent named ``name`` (its root folder)."""
    warning = None
    if piece_size is None:
        choice = choose_piece_size(files, fmt, name, options)
        piece_size, warning = choice.piece_size, choice.warning
        if warning:
            warning = f"{name}: {warning}"
    layout = make_layout(files, fmt, piece_size)
    digests = hash_layout(
        layout, contents=contents, late=late, sha256_paths=sha256_paths, advance=advance
    )
    meta = build_metainfo(layout, digests, name, options)
    raw = bencode(meta["info"])  # encoded once: hashed, then spliced into the file
    btih, btmh = hashes_of_info(raw, fmt)
    meta["info"] = Raw(raw)
    return Built(name, layout, digests, bencode(meta), btih, btmh, warning)


def _text(b: bytes) -> str:
    return b.decode("utf-8")


def read_torrent(data: bytes) -> dict[Any, Any]:
    """Decode a .torrent (libtorrent's bdecoder); raise ValueError naming the problem."""
    meta = lt.bdecode(data)
    if not isinstance(meta, dict) or b"info" not in meta:
        raise ValueError("not a torrent file (no info dictionary)")
    return meta


def layout_of_torrent(data: bytes) -> tuple[str, Layout]:
    """(root name, file layout) of a torrent we wrote, for its files' client indices."""
    info = read_torrent(data)[b"info"]
    fmt = (
        "hybrid"
        if b"meta version" in info and b"pieces" in info
        else "v2"
        if b"meta version" in info
        else "v1"
    )
    files: list[Entry] = []
    if b"files" in info:
        for f in info[b"files"]:
            if f.get(b"attr", b"") != b"p":
                files.append(Entry("/".join(map(_text, f[b"path"])), f[b"length"]))
    else:

        def walk(node: dict[bytes, Any], prefix: list[str]) -> None:
            for key, child in node.items():
                if key == b"":
                    files.append(Entry("/".join(prefix), child[b"length"]))
                else:
                    walk(child, [*prefix, _text(key)])

        walk(info[b"file tree"], [])
    return _text(info[b"name"]), make_layout(files, fmt, info[b"piece length"])
