"""Torrent file layout: canonical order, BEP 47 pad files, offsets and client file indices."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

FORMATS = ("v1", "v2", "hybrid")
BLOCK = 16 * 1024  # BEP 52 merkle leaf size
MIN_PIECE = BLOCK


@dataclass(frozen=True)
class Entry:
    """One file of a torrent: its path under the root folder, size, and where its bytes are."""

    path: str  # '/'-separated, relative to the torrent's root folder
    size: int
    source: Path | str | None = None  # file on disk; None for in-memory content or a pad
    pad: bool = False


def path_key(path: str) -> tuple[bytes, ...]:
    """Sort key giving the order of a v2 file tree (component-wise, raw bytes)."""
    return tuple(p.encode("utf-8") for p in path.split("/"))


@dataclass
class Layout:
    """The files of one torrent in client order, with pad files where the format needs them."""

    fmt: str
    piece_size: int
    entries: list[Entry]
    offsets: list[int] = field(default_factory=list)
    total: int = 0

    @property
    def files(self) -> list[Entry]:
        """Real files (no pads), in order."""
        return [e for e in self.entries if not e.pad]

    @property
    def num_pieces(self) -> int:
        return -(-self.total // self.piece_size)

    def file_indices(self) -> dict[str, int]:
        """Path → index a client uses for BEP 53 ``so=`` and file priorities (pads count)."""
        return {e.path: i for i, e in enumerate(self.entries) if not e.pad}


def make_layout(files: list[Entry], fmt: str, piece_size: int) -> Layout:
    """Sort ``files`` canonically and add pad files after every unaligned file for v2/hybrid.

    libtorrent (the reference v2 implementation) pads after the last file too and counts pads in
    its file indices, also for v2-only torrents where pads are implied rather than listed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown torrent format {fmt!r} (choose {', '.join(FORMATS)})")
    if piece_size < MIN_PIECE or piece_size & (piece_size - 1):
        raise ValueError(f"piece size {piece_size} is not a power of two ≥ {MIN_PIECE}")
    ordered = sorted(files, key=lambda e: path_key(e.path))
    for a, b in pairwise(ordered):
        if a.path == b.path:
            raise ValueError(f"duplicate path {a.path!r} in torrent")
    entries: list[Entry] = []
    for e in ordered:
        entries.append(e)
        rest = e.size % piece_size
        if fmt != "v1" and rest:
            n = piece_size - rest
            entries.append(Entry(f".pad/{n}", n, None, pad=True))
    offsets, pos = [], 0
    for e in entries:
        offsets.append(pos)
        pos += e.size
    return Layout(fmt, piece_size, entries, offsets, pos)
