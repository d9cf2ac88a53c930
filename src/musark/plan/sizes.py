"""Byte sizes as people write them: ``300TB`` (decimal), ``1.5 TiB`` (binary), ``12345`` (bytes)."""

from __future__ import annotations

import re
from decimal import Decimal

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*$")


def parse_size(text: str) -> int:
    """Return the number of bytes in ``text`` (e.g. '300TB', '2.5 GiB'); ValueError when invalid."""
    m = _SIZE_RE.match(text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise ValueError(
            f"invalid size {text!r}: expected a number and an optional unit "
            "(B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB)"
        )
    return int(Decimal(m.group(1)) * _UNITS[unit])


def format_size(n: float) -> str:
    """Human-readable decimal size, e.g. '3.21 TB'."""
    for unit, factor in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {unit}"
    return f"{int(n)} B"
