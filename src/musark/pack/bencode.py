"""Bencoding (BEP 3): a deterministic encoder with byte-sorted dict keys, and a token counter."""

from __future__ import annotations

from typing import Any


class Raw(bytes):
    """Already-bencoded bytes, emitted verbatim (e.g. an info dict encoded once for its hash)."""


def _key(k: str | bytes) -> bytes:
    return k.encode("utf-8") if isinstance(k, str) else k


def bencode(obj: Any) -> bytes:
    """Encode ``obj`` (dict/list/int/str/bytes); dict keys are sorted as raw bytes."""
    out: list[bytes] = []
    append = out.append

    def enc(o: Any) -> None:
        # exact type checks first: this runs once per value of 60,000-file torrents
        t = type(o)
        if t is str:
            b = o.encode("utf-8")
            append(b"%d:%s" % (len(b), b))
        elif t is int:
            append(b"i%de" % o)
        elif t is dict:
            append(b"d")
            items = sorted((_key(k), v) for k, v in o.items())
            prev = None
            for k, v in items:
                if k == prev:
                    raise ValueError(f"duplicate bencode key {k!r}")
                prev = k
                append(b"%d:%s" % (len(k), k))
                enc(v)
            append(b"e")
        elif t is list or t is tuple:
            append(b"l")
            for v in o:
                enc(v)
            append(b"e")
        elif t is Raw:
            append(o)
        elif isinstance(o, bytes | bytearray | memoryview):
            b = bytes(o)
            append(b"%d:%s" % (len(b), b))
        elif isinstance(o, bool):
            raise TypeError("bencode has no booleans")
        elif isinstance(o, int):
            append(b"i%de" % o)
        else:
            raise TypeError(f"cannot bencode {t.__name__}")

    enc(obj)
    return b"".join(out)


def count_tokens(obj: Any) -> int:
    """Bencode tokens a decoder allocates for ``obj`` (as libtorrent counts: containers + 1 end)."""
    if isinstance(obj, dict):
        return 2 + sum(1 + count_tokens(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return 2 + sum(count_tokens(v) for v in obj)
    return 1
