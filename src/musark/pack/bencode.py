"""Bencoding (BEP 3): a deterministic encoder with byte-sorted dict keys, and a token counter."""

from __future__ import annotations

from typing import Any


def _key(k: str | bytes) -> bytes:
    return k.encode("utf-8") if isinstance(k, str) else k


def _encode(obj: Any, out: list[bytes]) -> None:
    if isinstance(obj, bytes | bytearray | memoryview):
        b = bytes(obj)
        out.append(b"%d:" % len(b))
        out.append(b)
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        out.append(b"%d:" % len(b))
        out.append(b)
    elif isinstance(obj, bool):
        raise TypeError("bencode has no booleans")
    elif isinstance(obj, int):
        out.append(b"i%de" % obj)
    elif isinstance(obj, list | tuple):
        out.append(b"l")
        for item in obj:
            _encode(item, out)
        out.append(b"e")
    elif isinstance(obj, dict):
        out.append(b"d")
        items = sorted(((_key(k), v) for k, v in obj.items()), key=lambda kv: kv[0])
        for i in range(1, len(items)):
            if items[i][0] == items[i - 1][0]:
                raise ValueError(f"duplicate bencode key {items[i][0]!r}")
        for k, v in items:
            out.append(b"%d:" % len(k))
            out.append(k)
            _encode(v, out)
        out.append(b"e")
    else:
        raise TypeError(f"cannot bencode {type(obj).__name__}")


def bencode(obj: Any) -> bytes:
    """Encode ``obj`` (dict/list/int/str/bytes); dict keys are sorted as raw bytes."""
    out: list[bytes] = []
    _encode(obj, out)
    return b"".join(out)


def count_tokens(obj: Any) -> int:
    """Bencode tokens a decoder allocates for ``obj`` (as libtorrent counts: containers + 1 end)."""
    if isinstance(obj, dict):
        return 2 + sum(1 + count_tokens(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return 2 + sum(count_tokens(v) for v in obj)
    return 1
