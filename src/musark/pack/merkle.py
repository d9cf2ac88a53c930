"""BEP 52 merkle trees: per-file pieces root and piece layer from 16 KiB leaf hashes."""

from __future__ import annotations

from hashlib import sha256

ZERO = bytes(32)


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _reduce(layer: list[bytes], width: int, pad: bytes) -> bytes:
    layer = layer + [pad] * (width - len(layer))
    while len(layer) > 1:
        layer = [sha256(layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
    return layer[0]


def pad_hash(leaves: int) -> bytes:
    """Root of a subtree of ``leaves`` all-zero leaf hashes (power of two)."""
    h = ZERO
    while leaves > 1:
        h = sha256(h + h).digest()
        leaves //= 2
    return h


def file_tree(leaves: list[bytes], piece_size: int) -> tuple[bytes, bytes | None]:
    """Return (pieces root, piece layer or None when the file fits one piece) of one file."""
    per_piece = piece_size // (16 * 1024)
    if len(leaves) <= per_piece:
        return _reduce(leaves, _next_pow2(len(leaves)), ZERO), None
    pieces = [
        _reduce(leaves[i : i + per_piece], per_piece, ZERO)
        for i in range(0, len(leaves), per_piece)
    ]
    return _reduce(pieces, _next_pow2(len(pieces)), pad_hash(per_piece)), b"".join(pieces)
