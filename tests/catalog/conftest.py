"""Helpers shared by the catalogue tests: run an ingest, read tables back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from musark.archive import Archive
from musark.catalog.ingest import ingest

TABLES = ("tracks", "albums", "artists", "artist_genres", "album_images", "track_artists",
          "track_audio", "isrc_tracks", "rejects")  # fmt: skip


def rows(archive: Archive, sql: str, params: list | None = None) -> list[tuple]:
    """Run a read-only query against the archive's catalogue."""
    con = duckdb.connect(str(archive.catalog_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(archive: Archive) -> dict[str, list[tuple]]:
    """Every catalogue table's content, sorted (rejected_at excluded: it is when, not what)."""
    return {
        t: rows(
            archive,
            f"SELECT * {'EXCLUDE (rejected_at)' if t == 'rejects' else ''} FROM {t} ORDER BY ALL",
        )
        for t in TABLES
    }


@pytest.fixture
def run_ingest(archive: Archive):
    """Ingest paths into the test archive (no progress bar) and return the result."""

    def run(*paths: Path, fmt: str = "auto") -> dict:
        return ingest(archive, list(paths), fmt, show_progress=False)

    return run
