"""BagIt (RFC 8493) tag files of a batch folder: the payload is ``data/``, the tags sit beside it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from hashlib import sha256

from musark import __version__

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
HEAD_TAGS = ("bag-info.txt", "bagit.txt")  # known before hashing; sort before data/
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
TAIL_TAGS = (MANIFEST, TAGMANIFEST)  # need the payload's SHA-256s; sort after data/


def bag_info(
    *, group: str, external_id: str, bagging_date: str, payload_bytes: int, payload_files: int
) -> str:
    """bag-info.txt: fixed field order, no wall-clock time (a re-release is byte-identical)."""
    fields = [
        ("Bag-Software-Agent", f"musark {__version__}"),
        ("Bagging-Date", bagging_date),
        ("External-Identifier", external_id),
        ("Bag-Group-Identifier", group),
        ("Payload-Oxum", f"{payload_bytes}.{payload_files}"),
    ]
    return "".join(f"{k}: {v}\n" for k, v in fields)


def manifest(digests: Iterable[tuple[str, str]]) -> str:
    """``<sha256>  <path>`` lines (the format ``sha256sum -c`` reads), in the order given."""
    return "".join(f"{h}  {p}\n" for p, h in digests)


def manifest_size(paths: Iterable[str]) -> int:
    """Bytes of a SHA-256 manifest over ``paths``, known before any hash is."""
    return sum(64 + 2 + len(p.encode("utf-8")) + 1 for p in paths)


def tag_files(head: Mapping[str, bytes], manifest_bytes: bytes) -> dict[str, bytes]:
    """The manifest and the tag manifest covering bagit.txt, bag-info.txt and the manifest."""
    tagged = {**head, MANIFEST: manifest_bytes}
    tm = manifest((p, sha256(tagged[p]).hexdigest()) for p in sorted(tagged))
    return {MANIFEST: manifest_bytes, TAGMANIFEST: tm.encode("utf-8")}


def tagmanifest_size() -> int:
    """Bytes of the tag manifest (it always lists the same three files)."""
    return manifest_size(sorted((*HEAD_TAGS, MANIFEST)))
