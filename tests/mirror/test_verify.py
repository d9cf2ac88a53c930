"""musark verify: a fixity audit against the index, per batch; --repair heals from the swarm."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from musark.archive import Archive
from musark.mirror.install import quarantine_dir
from musark.mirror.session import parse_peer
from tests.conftest import require_tool
from tests.mirror.released import BATCHES, Released, Seeder, client_download
from tests.pack.swarm import aria2c_args, tracker


@pytest.fixture
def full_mirror(mirror: Archive, seeder: Seeder) -> Archive:
    """A mirror whose three batches were downloaded completely by a plain BitTorrent client."""
    client_download(mirror, seeder.peer)
    return mirror


def flip_byte(path: Path, offset: int = 100) -> None:
    """Bit rot: one byte changes, the size and the modification time do not."""
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def by_batch(report: dict) -> dict[str, dict]:
    return {b["batch"]: b for b in report["batches"]}


def test_a_batch_downloaded_by_any_client_verifies_as_is(
    full_mirror: Archive, released: Released, cli
):
    out = cli.json("verify", "--archive", full_mirror.root)
    assert out["ok"]
    assert out["totals"]["ok"] == len(released.tracks)
    assert out["totals"]["missing"] == out["totals"]["corrupt"] == out["totals"]["unexpected"] == 0
    # BagIt tag files (bagit.txt, manifests) belong to the batch folder: not "unexpected".
    assert (full_mirror.batch_dir(BATCHES[0]) / "manifest-sha256.txt").exists()
    # So are the BEP 47 pad files some clients write to disk for v2/hybrid torrents.
    pad = full_mirror.batch_dir(BATCHES[1]) / ".pad" / "1000"
    pad.parent.mkdir()
    pad.write_bytes(bytes(1000))
    assert cli.json("verify", "--archive", full_mirror.root)["totals"]["unexpected"] == 0
    assert out["files_hashed"] == len(released.tracks)
    assert out["bytes_hashed"] == sum(t.size for t in released.tracks)


def test_flipped_byte_is_named_corrupt_and_repair_restores_it(
    full_mirror: Archive, released: Released, seeder: Seeder, cli
):
    t = released.by_batch("keep__0002")[4]
    target = full_mirror.batch_dir(t.batch) / t.path
    flip_byte(target)
    bad = target.read_bytes()
    cli("verify", "--archive", full_mirror.root, "--json", ok=False)
    assert cli.last.exit_code == 1
    out = json.loads(cli.last.stdout)
    assert not out["ok"]
    assert [(i["batch"], i["path"], i["status"]) for i in out["issues"]] == [
        (t.batch, t.path, "corrupt")
    ]
    assert t.sha256 in out["issues"][0]["reason"]
    assert by_batch(out)[t.batch]["corrupt"] == 1 and by_batch(out)[t.batch]["ok"] == 7

    out = cli.json("verify", "--repair", "--peer", seeder.peer, "--archive", full_mirror.root)
    assert out["ok"] and out["totals"]["corrupt"] == 0 and out["totals"]["repaired"] == 1
    assert out["repaired"][0]["path"] == t.path
    assert hashlib.sha256(target.read_bytes()).hexdigest() == t.sha256
    # The user's bad copy was moved aside, not destroyed.
    kept = Path(out["repaired"][0]["moved_to"])
    assert kept.is_relative_to(quarantine_dir(full_mirror)) and kept.read_bytes() == bad
    assert cli.json("verify", "--archive", full_mirror.root)["totals"]["ok"] == len(released.tracks)


def test_truncated_deleted_and_unknown_files_are_each_reported(
    full_mirror: Archive, released: Released, seeder: Seeder, cli
):
    cli.json("verify", "--archive", full_mirror.root)  # the ledger now knows every file
    a, b = released.by_batch("keep__0001")[1], released.by_batch("opus75__0001")[2]
    with open(full_mirror.batch_dir(a.batch) / a.path, "r+b") as fh:
        fh.truncate(a.size // 2)
    (full_mirror.batch_dir(b.batch) / b.path).unlink()
    (full_mirror.batch_dir("keep__0002") / "data" / "stray.ogg").write_bytes(b"OggS")
    (full_mirror.files_dir / "not-a-batch").mkdir()
    (full_mirror.files_dir / "not-a-batch" / "x.flac").write_bytes(b"fLaC")
    cli("verify", "--archive", full_mirror.root, "--json", ok=False)
    out = json.loads(cli.last.stdout)
    issues = {(i["batch"], i["path"]): i for i in out["issues"]}
    assert issues[(a.batch, a.path)]["status"] == "corrupt"
    assert issues[(a.batch, a.path)]["reason"] == f"size {a.size // 2} bytes, index says {a.size}"
    assert issues[(b.batch, b.path)]["status"] == "missing"
    assert issues[(b.batch, b.path)]["lost"] is True  # verified before, gone now
    assert issues[("keep__0002", "data/stray.ogg")]["status"] == "unexpected"
    assert issues[("not-a-batch", "")]["status"] == "unexpected"
    assert issues[("not-a-batch", "")]["reason"] == "folder is not a released batch (1 files)"
    assert len(issues) == 4
    counts = by_batch(out)
    assert (counts[a.batch]["corrupt"], counts[b.batch]["missing"]) == (1, 1)
    assert counts["keep__0002"]["unexpected"] == 1 and counts["not-a-batch"]["released"] is False

    # --repair restores the truncated file and the lost one; unknown files are left alone.
    out = cli.json("verify", "--repair", "--peer", seeder.peer, "--archive", full_mirror.root)
    assert out["ok"] and out["totals"]["repaired"] == 2
    assert out["totals"]["missing"] == 0 and out["totals"]["unexpected"] == 2
    assert (full_mirror.batch_dir("keep__0002") / "data" / "stray.ogg").read_bytes() == b"OggS"


def test_since_skips_files_verified_recently(full_mirror: Archive, released: Released, cli):
    n = len(released.tracks)
    assert cli.json("verify", "--archive", full_mirror.root)["files_hashed"] == n
    out = cli.json("verify", "--since", "7", "--archive", full_mirror.root)
    assert out["files_hashed"] == 0 and out["totals"]["skipped"] == n and out["ok"]
    # A file rewritten since (new mtime) is checked again even within the window.
    t = released.tracks[0]
    path = full_mirror.batch_dir(t.batch) / t.path
    path.write_bytes(path.read_bytes())
    os.utime(path, (time.time() + 5, time.time() + 5))
    out = cli.json("verify", "--since", "7", "--archive", full_mirror.root)
    assert out["files_hashed"] == 1 and out["totals"]["skipped"] == n - 1
    # A window of zero days re-checks everything.
    assert cli.json("verify", "--since", "0", "--archive", full_mirror.root)["files_hashed"] == n


def test_batches_not_mirrored_are_counted_not_missing(mirror: Archive, seeder: Seeder, cli):
    client_download(mirror, seeder.peer, ("keep__0002",))
    out = cli.json("verify", "--archive", mirror.root)
    assert out["ok"] and out["batches_absent"] == 2
    assert [b["batch"] for b in out["batches"]] == ["keep__0002"]
    assert out["totals"]["missing"] == 0


def test_a_batch_downloaded_by_aria2c_verifies_as_is(
    released: Released, mirror: Archive, seeder: Seeder, cli
):
    aria2c = require_tool("aria2c")
    batch = BATCHES[2]
    with tracker([parse_peer(seeder.peer)]) as announce:
        run = subprocess.run(
            [
                aria2c,
                *aria2c_args(mirror.files_dir, announce, ports="47881-47981"),
                str(mirror.torrents_dir / f"{batch}.torrent"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    out = cli.json("verify", "--archive", mirror.root)
    assert out["ok"] and out["batches_absent"] == 2
    assert by_batch(out)[batch] | {"batch": batch} == {
        "batch": batch,
        "released": True,
        "ok": len(released.by_batch(batch)),
        "missing": 0,
        "corrupt": 0,
        "unexpected": 0,
        "skipped": 0,
        "repaired": 0,
    }


def test_a_partial_mirror_counts_unfetched_files_and_names_lost_ones(
    released: Released, mirror: Archive, seeder: Seeder, cli
):
    t = released.by_batch("keep__0002")[3]
    cli.json("fetch", t.id, "--peer", seeder.peer, "--archive", mirror.root)
    out = cli.json("verify", "--archive", mirror.root)
    n = len(released.by_batch(t.batch))
    assert by_batch(out)[t.batch]["ok"] == 1 and by_batch(out)[t.batch]["missing"] == n - 1
    assert out["issues"] == []  # never fetched here: counted, not listed one by one
    (mirror.batch_dir(t.batch) / t.path).unlink()
    out = cli.json("verify", "--archive", mirror.root)
    assert [(i["path"], i["status"], i.get("lost")) for i in out["issues"]] == [
        (t.path, "missing", True)
    ]
    out = cli.json("verify", "--repair", "--peer", seeder.peer, "--archive", mirror.root)
    assert out["totals"]["repaired"] == 1 and out["issues"] == []
