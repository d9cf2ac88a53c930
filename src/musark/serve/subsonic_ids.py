"""The Subsonic id scheme: ``ar-<artist>``, ``al-<album>``, ``tr-<track>``, ``pl-<n>``, ``mf-1``.

The part after the prefix is the catalogue id, validated with musark.ids before it touches a
query or a path; anything else is error 70 (not found), never a server error.
"""

from __future__ import annotations

from musark.ids import is_valid_id
from musark.serve.errors import NOT_FOUND, ApiError

KINDS = {"ar": "artist", "al": "album", "tr": "song", "pl": "playlist", "mf": "music folder"}
ROOT_FOLDER = "mf-1"


def make(kind: str, raw: str) -> str:
    """The Subsonic id of catalogue id ``raw`` of ``kind`` (one of KINDS' prefixes)."""
    return f"{kind}-{raw}"


def split(value: str | None) -> tuple[str, str]:
    """Return (prefix, catalogue id) or raise error 70 for a malformed or unknown-kind id."""
    if value is None or "-" not in value:
        raise ApiError(NOT_FOUND, f"Not found: {value!r} is not a musark id (ar-, al-, tr-, pl-)")
    prefix, raw = value.split("-", 1)
    if prefix not in KINDS or not is_valid_id(raw):
        raise ApiError(NOT_FOUND, f"Not found: {value!r} is not a musark id (ar-, al-, tr-, pl-)")
    return prefix, raw


def parse(value: str | None, kind: str) -> str:
    """The catalogue id inside ``value``, which must be of ``kind``; else error 70."""
    prefix, raw = split(value)
    if prefix != kind:
        raise ApiError(NOT_FOUND, f"{KINDS[kind].capitalize()} not found: {value}")
    return raw
