"""The published index: stock sqlite3 reads it after `zstd -d`; its file map drives BEP 53 so=."""

from __future__ import annotations

import json
import subprocess

import duckdb
import libtorrent as lt
import pytest

from musark.index.open import open_index
from musark.pack.release import release
from tests.conftest import require_tool
from tests.pack.builder import build_archive

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # lt torrent_info.files()


def test_index_is_queryable_with_stock_sqlite3_after_zstd_d(archive, tmp_path):
    zstd, sqlite3 = require_tool("zstd"), require_tool("sqlite3")
    build_archive(archive, {"keep__0001": 4, "keep__0002": 2})
    release(archive, show_progress=False)
    db = tmp_path / "index.sqlite3"
    subprocess.run([zstd, "-q", "-d", str(archive.index_zst), "-o", str(db)], check=True)
    out = subprocess.run(
        [sqlite3, "-json", str(db),
         "SELECT t.name AS track, a.name AS artist, f.batch, f.path, f.patch_path "
         "FROM tracks t JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0 "
         "JOIN artists a ON a.id = ta.artist_id JOIN track_files f ON f.track_id = t.id "
         "ORDER BY t.id"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = json.loads(out)
    # only the released batch has files; all metadata is there for every track
    assert [r["path"] for r in rows] == [
        "data/t0x000.ogg",
        "data/t0x001.opus",
        "data/t0x002.flac",
        "data/t0x003.ogg",
    ]
    assert rows[0] == {
        "track": "Song t0x000",
        "artist": "Ada Tone",
        "batch": "keep__0001",
        "path": "data/t0x000.ogg",
        "patch_path": "t0x000.zstdpatch",
    }
    counts = subprocess.run(
        [sqlite3, str(db), "SELECT (SELECT count(*) FROM tracks) || ' ' || "
         "(SELECT count(*) FROM torrents) || ' ' || (SELECT path FROM album_images)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert counts == ["6", "3", "al0.png"]


@pytest.mark.parametrize("fmt", ["v1", "hybrid", "v2"])
def test_file_index_in_torrent_is_what_libtorrent_uses(archive, fmt):
    build_archive(archive, {"keep__0001": 5})
    release(archive, fmt=fmt, show_progress=False)
    con = open_index(archive)
    ti = lt.torrent_info(str(archive.torrents_dir / "keep__0001.torrent"))
    files = ti.files()
    rows = con.execute("SELECT path, file_index_in_torrent, size FROM track_files").fetchall()
    assert len(rows) == 5
    for path, idx, size in rows:
        assert files.file_path(idx) == f"keep__0001/{path}"
        assert files.file_size(idx) == size


def test_deduplicated_tracks_point_at_the_file_that_stands_for_them(archive):
    build_archive(archive, {"keep__0001": 3})
    con = duckdb.connect(str(archive.catalog_db))
    con.execute("INSERT INTO tracks (id, name) VALUES ('dup1', 'Same song, other release')")
    con.execute(
        "INSERT INTO track_files (track_id, tier, status, dedup_of) "
        "VALUES ('dup1', 'keep', 'dedup', 't0x001')"
    )
    con.close()
    release(archive, show_progress=False)
    idx = open_index(archive)
    dup, orig = (
        tuple(idx.execute("SELECT * FROM track_files WHERE track_id = ?", [t]).fetchone())
        for t in ("dup1", "t0x001")
    )
    assert dup[1:] == orig[1:]


def test_index_is_deterministic(archive):
    build_archive(archive, {"keep__0001": 3})
    release(archive, show_progress=False)
    first = archive.index_zst.read_bytes()
    archive.index_zst.unlink()
    archive.index_db.unlink()
    release(archive, batches=["keep__0001"], show_progress=False)
    assert archive.index_zst.read_bytes() == first


def test_file_map_falls_back_to_the_torrent_when_release_has_no_record(archive):
    build_archive(archive, {"keep__0001": 3})
    release(archive, fmt="hybrid", show_progress=False)
    before = open_index(archive).execute("SELECT * FROM track_files ORDER BY 1").fetchall()
    con = duckdb.connect(str(archive.catalog_db))
    con.execute("DELETE FROM release_files")
    con.close()
    release(archive, next_n=0, show_progress=False)  # nothing new: only the index is rebuilt
    after = open_index(archive).execute("SELECT * FROM track_files ORDER BY 1").fetchall()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
