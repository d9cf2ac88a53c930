"""Validation of opaque catalogue ids before they touch a path or a query."""

from __future__ import annotations

import re

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN)


class InvalidIdError(ValueError):
    """An id that does not match ``[A-Za-z0-9_-]{1,64}``."""


def is_valid_id(value: object) -> bool:
    """Return True when ``value`` is a string usable as a track/album/artist id and file name."""
    return isinstance(value, str) and _ID_RE.match(value) is not None


def check_id(value: object, what: str = "id") -> str:
    """Return ``value`` unchanged, or raise InvalidIdError naming ``what`` and the reason."""
    if not is_valid_id(value):
        raise InvalidIdError(f"invalid {what} {value!r}: must match [A-Za-z0-9_-]{{1,64}}")
    return value  # type: ignore[return-value]
