"""A released batch travels between real BitTorrent clients on 127.0.0.1 and arrives as a valid bag."""

from __future__ import annotations

import subprocess

import bagit
import pytest

from musark.pack.release import release
from tests.conftest import require_tool
from tests.pack.builder import build_archive
from tests.pack.swarm import add, aria2c_args, session, tracker, wait_on_disk, wait_seeding


def _validate_bag(folder) -> None:
    bagit.Bag(str(folder)).validate()
    check = subprocess.run(
        [require_tool("sha256sum"), "-c", "--strict", "manifest-sha256.txt"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("fmt", ["v1", "hybrid", "v2"])
def test_libtorrent_to_libtorrent_download_is_a_valid_bag(archive, tmp_path, fmt):
    build_archive(archive, {"keep__0001": 7}, record_sha256=False)
    release(archive, fmt=fmt, show_progress=False)
    torrent = archive.torrents_dir / "keep__0001.torrent"
    seeder, leecher = session(), session()
    seed = add(seeder, torrent, archive.files_dir)
    wait_seeding(seed, timeout=30)  # the seeder re-checks every piece: our hashes are right
    down = tmp_path / "download"
    h = add(leecher, torrent, down)
    h.connect_peer(("127.0.0.1", seeder.listen_port()))
    st = wait_seeding(h)
    wait_on_disk(leecher, h)
    assert st.total_wanted == sum(
        f.stat().st_size for f in archive.batch_dir("keep__0001").rglob("*") if f.is_file()
    )
    _validate_bag(down / "keep__0001")
    assert (down / "keep__0001" / "data" / "t0x000.ogg").read_bytes() == archive.track_path(
        "keep__0001", "t0x000", "ogg"
    ).read_bytes()


def test_aria2c_downloads_a_v1_batch_from_a_libtorrent_seeder(archive, tmp_path):
    aria2c = require_tool("aria2c")
    build_archive(archive, {"keep__0001": 5})
    release(archive, show_progress=False)
    torrent = archive.torrents_dir / "keep__0001.torrent"
    seeder = session()
    wait_seeding(add(seeder, torrent, archive.files_dir), timeout=30)
    down = tmp_path / "aria2"
    with tracker([("127.0.0.1", seeder.listen_port())]) as announce:
        run = subprocess.run(
            [
                aria2c,
                *aria2c_args(down, announce),
                "--check-integrity=true",
                str(torrent),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    _validate_bag(down / "keep__0001")
