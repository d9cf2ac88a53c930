"""Helpers for run tests: a mixed keep/opus workload and a snapshot of everything it wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path

from musark.archive import Archive, init_archive
from tests.media.fixtures import Track, cover_png, make_catalog, track_files

WORKLOAD = [Track(f"k{n:02d}", ("ogg", "flac", "mp3", "opus")[n % 4], 3.0) for n in range(8)] + [
    Track(f"o{n:02d}", "ogg", 6.0, tier="opus75") for n in range(8)
]


def make_workload(root: Path, sources: Path, tracks: list[Track] = WORKLOAD) -> Archive:
    """A fresh archive planning ``tracks``; sources are generated into ``sources`` once."""
    arc = Archive(root)
    init_archive(arc)
    cover = sources.parent / "cover.png"
    if not cover.exists():
        cover_png(cover)
    make_catalog(arc, tracks, sources, cover=cover, write_sources=not sources.exists())
    return arc


def snapshot(arc: Archive) -> dict:
    """Every output file's digest and every record (minus the processing time)."""
    files = {
        str(p.relative_to(arc.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for d in (arc.files_dir, arc.patches_dir, arc.quarantine_dir)
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }
    records = [{k: v for k, v in r.items() if k != "processed_at"} for r in track_files(arc)]
    return {"files": files, "records": records}
