"""``musark index``: build the server's library tables and full-text index from the published index."""

from __future__ import annotations

import time

from musark.archive import Archive
from musark.serve.library_db import build_library, index_stamp, library_is_current, library_path
from musark.serve.search_index import STAMP_FILE, build_search, search_dir


def index_is_current(archive: Archive) -> bool:
    """True when both the library tables and the search index match the published index.

    Each records the index it was built from, so a build killed between the two is redone.
    """
    if not library_is_current(archive):
        return False
    stamp = search_dir(archive) / STAMP_FILE
    return stamp.exists() and stamp.read_text(encoding="utf-8") == index_stamp(archive)


def build_index(
    archive: Archive, *, force: bool = False, show_progress: bool | None = None
) -> dict:
    """Build search/library.sqlite3 and search/tantivy unless current (or ``force``); report counts."""
    start = time.perf_counter()
    if not force and index_is_current(archive):
        return {"rebuilt": False, "search_dir": str(archive.search_dir), "seconds": 0.0}
    counts = build_library(archive)
    docs = build_search(
        archive, library_path(archive), show_progress=show_progress, stamp=index_stamp(archive)
    )
    return {
        "rebuilt": True,
        "search_dir": str(archive.search_dir),
        **counts,
        "documents": docs,
        "seconds": round(time.perf_counter() - start, 3),
    }
