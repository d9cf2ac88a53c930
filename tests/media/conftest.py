"""Fixtures for media tests: archives with planned tracks and generated sources, processed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from musark.archive import Archive, init_archive
from musark.media.process import process_archive
from tests.media.fixtures import Track, cover_png, make_catalog

KEEP_FORMATS = ("ogg", "opus", "flac", "mp3", "m4a")


@pytest.fixture(scope="package")
def keep_archive(tmp_path_factory) -> tuple[Archive, dict[str, Path]]:
    """One archive whose keep-tier tracks (one per format, with a catalogue cover) are processed."""
    root = tmp_path_factory.mktemp("keep")
    arc = Archive(root / "archive")
    init_archive(arc)
    cover = cover_png(root / "cover.png")
    tracks = [Track(f"keep-{ext}", ext, seconds=3.0) for ext in KEEP_FORMATS]
    sources = make_catalog(arc, tracks, root / "src", cover=cover)
    report = process_archive(arc, source_dir=root / "src", workers=2, show_progress=False)
    assert report.done == len(tracks), report.as_dict()
    return arc, sources
