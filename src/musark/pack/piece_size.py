"""``--piece-size auto``: the power of two that keeps a torrent within common client limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from musark.pack.bencode import bencode, count_tokens
from musark.pack.hashing import Digests
from musark.pack.layout import MIN_PIECE, Entry, make_layout
from musark.pack.torrent import Options, build_metainfo

# libtorrent's load_torrent_limits defaults for reading a .torrent (max_buffer_size,
# max_decode_tokens; max_pieces is 2^21, rounded down here). Other clients are as tolerant.
LIMITS: dict[str, int] = {
    "torrent_bytes": 10_000_000,
    "bencode_tokens": 3_000_000,
    "pieces": 2_000_000,
}
PREFERRED_PIECES = 1 << 13
PREFERRED_MAX = 4 * 1024 * 1024
MAX_PIECE = 256 * 1024 * 1024
_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}


@dataclass(frozen=True)
class PieceChoice:
    """A chosen piece size, the torrent's measured figures, and the limit it breaks (if any)."""

    piece_size: int
    torrent_bytes: int
    bencode_tokens: int
    pieces: int
    over_limit: str | None = None  # name of a LIMITS key when no piece size fits

    @property
    def warning(self) -> str | None:
        if self.over_limit is None:
            return None
        return (
            f"no piece size keeps this torrent within {self.over_limit} ≤ "
            f"{LIMITS[self.over_limit]:,} (measured {getattr(self, self.over_limit):,} at "
            f"{self.piece_size} bytes per piece); some clients will refuse it"
        )


def parse_piece_size(value: str | int) -> int | None:
    """Parse ``auto`` (→ None) or a power of two like ``4MiB``/``262144``; raise ValueError."""
    if isinstance(value, int):
        n = value
    else:
        text = value.strip().lower()
        if text == "auto":
            return None
        m = re.fullmatch(r"(\d+)\s*([a-z]*)", text)
        if not m or m.group(2) not in _UNITS:
            raise ValueError(f"piece size {value!r}: use 'auto' or e.g. 262144, 256KiB, 4MiB")
        n = int(m.group(1)) * _UNITS[m.group(2)]
    if n < MIN_PIECE or n & (n - 1):
        raise ValueError(f"piece size {value!r} is not a power of two ≥ 16KiB")
    return n


def _blen(n: int) -> int:
    """Bencoded length of a string of ``n`` bytes."""
    return len(str(n)) + 1 + n


def _bint(n: int) -> int:
    return len(str(n)) + 2


def _v1_entry(path: list[bytes], size: int, pad: bool) -> tuple[int, int]:
    """(bytes, tokens) of one entry of a v1 ``files`` list."""
    b = 2 + _blen(6) + _bint(size) + _blen(4) + 2 + sum(_blen(len(c)) for c in path)
    t = 2 + 2 + 1 + 2 + len(path)
    if pad:
        b += _blen(4) + _blen(1)
        t += 2
    return b, t


def _tree_cost(node: dict[bytes, dict], sizes: dict[int, int]) -> tuple[int, int]:
    b, t = 2, 2
    for key, child in node.items():
        b += _blen(len(key))
        t += 1
        if key == b"":
            n = sizes[id(child)]
            b += 2 + _blen(6) + _bint(n) + ((_blen(11) + _blen(32)) if n else 0)
            t += 2 + 2 + (2 if n else 0)
        else:
            cb, ct = _tree_cost(child, sizes)
            b, t = b + cb, t + ct
    return b, t


class _Costs:
    """Piece-size-independent parts of a torrent's size, computed once for the chooser."""

    def __init__(self, files: list[Entry], fmt: str, name: str, options: Options) -> None:
        self.fmt, self.files = fmt, files
        skeleton = make_layout([], fmt, MIN_PIECE)
        d = Digests(pieces=b"")
        meta = build_metainfo(skeleton, d, name, options)
        if fmt != "v1":
            meta["piece layers"] = {}
        self.base_bytes = len(bencode(meta)) - _bint(MIN_PIECE)
        self.base_tokens = count_tokens(meta)
        self.v1_bytes = self.v1_tokens = 0
        if fmt != "v2":
            for e in files:
                b, t = _v1_entry([c.encode() for c in e.path.split("/")], e.size, False)
                self.v1_bytes += b
                self.v1_tokens += t
        self.tree_bytes = self.tree_tokens = 0
        if fmt != "v1":
            tree: dict[bytes, dict] = {}
            sizes: dict[int, int] = {}
            for e in files:
                node = tree
                for part in e.path.split("/"):
                    node = node.setdefault(part.encode(), {})
                leaf: dict = {}
                node[b""] = leaf
                sizes[id(leaf)] = e.size
            self.tree_bytes, self.tree_tokens = _tree_cost(tree, sizes)
            self.tree_bytes -= 2  # the skeleton already holds an empty tree
            self.tree_tokens -= 2

    def measure(self, piece_size: int) -> PieceChoice:
        total = 0
        b = self.base_bytes + _bint(piece_size) + self.v1_bytes + self.tree_bytes
        t = self.base_tokens + self.v1_tokens + self.tree_tokens
        for e in self.files:
            rest = e.size % piece_size
            if self.fmt != "v1" and rest:
                total += e.size + piece_size - rest
                if self.fmt == "hybrid":
                    pb, pt = _v1_entry([b".pad", str(piece_size - rest).encode()], 0, True)
                    b += pb - _bint(0) + _bint(piece_size - rest)
                    t += pt
            else:
                total += e.size
            if self.fmt != "v1" and e.size > piece_size:
                b += _blen(32) + _blen(32 * -(-e.size // piece_size))
                t += 2
        pieces = -(-total // piece_size)
        if self.fmt != "v2":
            b += _blen(20 * pieces) - _blen(0)
        return PieceChoice(piece_size, b, t, pieces)


def measure(
    files: list[Entry], fmt: str, piece_size: int, name: str, options: Options = Options()
) -> PieceChoice:
    """Size and bencode tokens of the torrent these files make at ``piece_size``, from sizes."""
    return _Costs(files, fmt, name, options).measure(piece_size)


def choose_piece_size(
    files: list[Entry], fmt: str, name: str, options: Options = Options()
) -> PieceChoice:
    """The preferred size (~8k pieces, at most 4 MiB) grown until every LIMITS entry holds."""
    total = sum(e.size for e in files)
    size = MIN_PIECE
    while size < PREFERRED_MAX and size * PREFERRED_PIECES < total:
        size *= 2
    costs = _Costs(files, fmt, name, options)
    best: PieceChoice | None = None
    while size <= MAX_PIECE:
        choice = costs.measure(size)
        over = [k for k in LIMITS if getattr(choice, k) > LIMITS[k]]
        if not over:
            return choice
        best = PieceChoice(
            choice.piece_size,
            choice.torrent_bytes,
            choice.bencode_tokens,
            choice.pieces,
            over[0],
        )
        if choice.pieces <= len(files):  # fewer pieces cannot shrink the file list
            break
        size *= 2
    assert best is not None
    return best
