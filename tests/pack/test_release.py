"""`musark release`: frozen batches become BagIt bags and deterministic torrents, listed in
torrents.json, with their patches, the album art and the metadata index in their own torrents."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import bagit
import duckdb
import libtorrent as lt
import pytest

from musark.archive import Archive, init_archive
from musark.pack.release import ReleaseError, release
from tests.conftest import require_tool
from tests.pack.builder import build_archive

FIELDS = {
    "name", "group", "display_name", "is_metadata", "btih", "btmh", "magnet_link", "torrent_path",
    "torrent_size", "num_files", "data_size", "added_at", "popularity_min", "popularity_max",
    "tier", "obsolete", "embargo",
}  # fmt: skip


def _published(arc: Archive) -> dict[str, bytes]:
    """Every published byte: release/ and the batch folders' tag files."""
    files = [p for p in arc.release_dir.rglob("*") if p.is_file() and p != arc.index_db]
    files += [p for p in arc.files_dir.glob("*/*.txt")]
    return {str(p.relative_to(arc.root)): p.read_bytes() for p in sorted(files)}


def test_release_freezes_the_batch_and_publishes_everything(archive):
    ids = build_archive(archive, {"keep__0001": 6}, record_sha256=False)["keep__0001"]
    result = release(archive, show_progress=False)
    assert result.released == ["keep__0001"]
    con = duckdb.connect(str(archive.catalog_db), read_only=True)
    status, released_at = con.execute(
        "SELECT status, released_at FROM batches WHERE name = 'keep__0001'"
    ).fetchone()
    assert status == "released" and released_at is not None
    # SHA-256s release had to compute are recorded, so no stage computes them again
    recorded = dict(con.execute("SELECT track_id, sha256 FROM track_files").fetchall())
    con.close()
    for tid in ids:
        ext = {0: "ogg", 1: "opus", 2: "flac"}[int(tid[-3:]) % 3]
        data = archive.track_path("keep__0001", tid, ext).read_bytes()
        assert recorded[tid] == hashlib.sha256(data).hexdigest()

    bag = archive.batch_dir("keep__0001")
    bagit.Bag(str(bag)).validate()
    info = (bag / "bag-info.txt").read_text()
    assert "External-Identifier: keep__0001\n" in info
    assert "Bag-Group-Identifier: musark\n" in info
    assert f"Bagging-Date: {released_at.date().isoformat()}\n" in info
    size = sum(p.stat().st_size for p in (bag / "data").iterdir())
    assert f"Payload-Oxum: {size}.6\n" in info

    entries = json.loads(archive.torrents_json.read_text())
    assert [(e["name"], e["group"]) for e in entries] == [
        ("keep__0001", "batches"),
        ("patches__keep__0001", "patches"),
        ("album_art", "album_art"),
        ("index", "metadata"),
    ]
    for e in entries:
        assert set(e) >= FIELDS
        torrent = archive.release_dir / e["torrent_path"]
        assert torrent.stat().st_size == e["torrent_size"]
        ti = lt.torrent_info(str(torrent))
        assert str(ti.info_hashes().v1) == e["btih"]
        assert e["magnet_link"].startswith(f"magnet:?xt=urn:btih:{e['btih']}&dn=")
        assert e["is_metadata"] is (e["name"] == "index")
        assert e["btmh"] is None and e["obsolete"] is False and e["embargo"] is False
    batch = entries[0]
    assert (batch["num_files"], batch["tier"]) == (10, "keep")  # 6 tracks + 4 BagIt tag files
    assert (batch["popularity_min"], batch["popularity_max"]) == (84, 90)
    meta = lt.bdecode((archive.torrents_dir / "keep__0001.torrent").read_bytes())
    assert b"creation date" not in meta and meta[b"created by"] == b"musark 0.1.0"
    assert (archive.release_dir / "album_art" / "al0.png").exists()


def test_transmission_show_prints_our_infohash_for_every_v1_torrent(archive):
    tool = require_tool("transmission-show")
    build_archive(archive, {"keep__0001": 4, "keep__0002": 3})
    release(archive, next_n=2, show_progress=False)
    entries = json.loads(archive.torrents_json.read_text())
    assert len(entries) == 6
    for e in entries:
        shown = subprocess.run(
            [tool, str(archive.release_dir / e["torrent_path"])],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert re.search(r"Hash: ([0-9a-f]{40})", shown).group(1) == e["btih"]
        assert f"Name: {e['root']}" in shown


def test_rerun_after_losing_outputs_is_byte_identical(archive):
    build_archive(archive, {"keep__0001": 5}, record_sha256=False)
    release(archive, show_progress=False)
    first = _published(archive)
    again = release(archive, batches=["keep__0001"], show_progress=False)
    assert again.unchanged == ["keep__0001"] and again.released == []
    assert _published(archive) == first
    # as if killed before anything but the freeze was written
    for rel in first:
        if not rel.startswith("files/") or rel.endswith("bagit.txt"):
            (archive.root / rel).unlink()
    release(archive, batches=["keep__0001"], show_progress=False)
    assert _published(archive) == first


def test_two_archives_built_alike_release_the_same_torrents(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")
    first = Archive(tmp_path / "a")
    init_archive(first)
    build_archive(first, {"keep__0001": 4})
    # the same catalogue and files (generated Ogg streams carry random serial numbers)
    shutil.copytree(first.root, tmp_path / "b")
    out = []
    for arc in (first, Archive(tmp_path / "b")):
        release(arc, fmt="hybrid", show_progress=False)
        out.append(_published(arc))
    assert out[0] == out[1]
    assert b"Bagging-Date: 2025-01-01\n" in out[0]["files/keep__0001/bag-info.txt"]


def test_a_frozen_batch_refuses_changes(archive):
    build_archive(archive, {"keep__0001": 4})
    release(archive, show_progress=False)
    before = _published(archive)
    with pytest.raises(ReleaseError, match=r"frozen.*different bytes or options"):
        release(archive, batches=["keep__0001"], fmt="hybrid", show_progress=False)
    con = duckdb.connect(str(archive.catalog_db))
    con.execute(
        "INSERT INTO track_files (track_id, batch, tier, status, ext, size, sha256) "
        "SELECT 'late1', batch, tier, 'done', ext, size, sha256 FROM track_files LIMIT 1"
    )
    con.close()
    src = archive.track_path("keep__0001", "t0x000", "ogg")
    archive.track_path("keep__0001", "late1", "ogg").write_bytes(src.read_bytes())
    with pytest.raises(ReleaseError, match=r"keep__0001 is released and frozen.*data/late1\.ogg"):
        release(archive, batches=["keep__0001"], show_progress=False)
    assert _published(archive) == before


def test_batches_not_fully_processed_are_not_released(archive):
    build_archive(archive, {"keep__0001": 3, "keep__0002": 3})
    con = duckdb.connect(str(archive.catalog_db))
    con.execute("UPDATE track_files SET status = 'planned' WHERE track_id = 't0x001'")
    con.close()
    with pytest.raises(ReleaseError, match=r"keep__0001.*1 files are not processed"):
        release(archive, batches=["keep__0001"], show_progress=False)
    with pytest.raises(ReleaseError, match=r"'nope'.*no such batch"):
        release(archive, batches=["nope"], show_progress=False)
    assert release(archive, next_n=5, show_progress=False).released == ["keep__0002"]


def test_next_releases_the_most_popular_batches_first(archive):
    build_archive(archive, {"keep__0001": 2, "keep__0002": 2, "keep__0003": 2})
    # builder gives batch i popularity_max 90 - i: the first batch is the most popular
    assert release(archive, show_progress=False).released == ["keep__0001"]
    assert release(archive, next_n=1, show_progress=False).released == ["keep__0002"]


def test_cli_release_json(archive, cli):
    build_archive(archive, {"keep__0001": 3})
    url = "http://127.0.0.1:6969/announce"
    out = cli.json(
        "release", "-a", archive.root, "--format", "hybrid", "--piece-size", "32KiB",
        "--tracker", url, "--web-seed", "http://127.0.0.1:8000/files/",
    )  # fmt: skip
    batch = out["torrents"][0]
    assert out["released"] == ["keep__0001"] and batch["piece_size"] == 32768
    assert batch["btmh"].startswith("1220")
    assert "&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce" in batch["magnet_link"]
    assert "&ws=http%3A%2F%2F127.0.0.1%3A8000%2Ffiles%2F" in batch["magnet_link"]
    meta = lt.bdecode((archive.release_dir / batch["torrent_path"]).read_bytes())
    assert meta[b"announce-list"] == [[url.encode()]]
    cli("release", "-a", archive.root, "--batch", "keep__0001", "--format", "v1", ok=False)
    assert cli.last.exit_code == 1 and "frozen" in cli.last.output


def test_cli_release_without_a_catalogue_fails_clearly(tmp_path, cli):
    cli("release", "-a", tmp_path / "none", ok=False)
    assert cli.last.exit_code == 1 and "no catalogue" in cli.last.output


def test_bag_of_a_batch_is_checked_by_sha256sum(archive):
    build_archive(archive, {"keep__0001": 3})
    release(archive, show_progress=False)
    run = subprocess.run(
        [require_tool("sha256sum"), "-c", "manifest-sha256.txt"],
        cwd=archive.batch_dir("keep__0001"), capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0 and run.stdout.count(": OK") == 3
    assert (
        Path(archive.batch_dir("keep__0001") / "tagmanifest-sha256.txt").read_text().count("\n")
        == 3
    )


def test_re_release_keeps_a_frozen_torrents_own_format_and_trackers(archive):
    build_archive(archive, {"keep__0001": 3})
    url = "http://127.0.0.1:6969/announce"
    release(archive, fmt="hybrid", piece_size="32KiB", trackers=[url], show_progress=False)
    first = _published(archive)
    again = release(archive, batches=["keep__0001"], show_progress=False)
    assert again.unchanged == ["keep__0001"]
    assert (
        _published(archive)["release/torrents/keep__0001.torrent"]
        == (first["release/torrents/keep__0001.torrent"])
    )
    with pytest.raises(ReleaseError, match="frozen"):
        release(archive, batches=["keep__0001"], trackers=["http://127.0.0.1:1/a"])


def test_a_missing_file_is_named_and_nothing_is_frozen(archive):
    build_archive(archive, {"keep__0001": 3})
    archive.track_path("keep__0001", "t0x001", "opus").unlink()
    with pytest.raises(ReleaseError, match=r"keep__0001: .*t0x001\.opus is missing"):
        release(archive, show_progress=False)
    con = duckdb.connect(str(archive.catalog_db), read_only=True)
    assert con.execute("SELECT status FROM batches").fetchone() == ("planned",)
    con.close()
    assert not archive.torrents_json.exists()


def test_album_art_torrent_has_one_local_image_per_released_album(archive):
    build_archive(archive, {"keep__0001": 2, "keep__0002": 2})
    release(archive, show_progress=False)  # only keep__0001 (album al0) is released
    art = next(
        e for e in json.loads(archive.torrents_json.read_text()) if e["group"] == "album_art"
    )
    ti = lt.torrent_info(str(archive.release_dir / art["torrent_path"]))
    assert ti.name() == "album_art" and ti.num_files() == 1
    image = archive.release_dir / "album_art" / "al0.png"
    assert image.read_bytes() == (archive.root / "images" / "al0.png").read_bytes()
    release(archive, show_progress=False)  # keep__0002 brings album al1: a new album-art torrent
    arts = [e for e in json.loads(archive.torrents_json.read_text()) if e["group"] == "album_art"]
    assert sorted((e["num_files"], e["obsolete"]) for e in arts) == [(1, True), (2, False)]


def test_a_run_killed_before_torrents_json_is_finished_by_the_next_run(archive):
    build_archive(archive, {"keep__0001": 2, "keep__0002": 2})
    release(archive, show_progress=False)
    torrent = (archive.torrents_dir / "keep__0001.torrent").read_bytes()
    archive.torrents_json.unlink()  # as if killed after the batch torrent, before torrents.json
    result = release(archive, show_progress=False)
    assert result.released == ["keep__0002"] and result.unchanged == ["keep__0001"]
    names = [e["name"] for e in json.loads(archive.torrents_json.read_text())]
    assert {"keep__0001", "keep__0002", "patches__keep__0001", "patches__keep__0002"} <= set(names)
    assert (archive.torrents_dir / "keep__0001.torrent").read_bytes() == torrent
