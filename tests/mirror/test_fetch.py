"""musark fetch: only the requested files arrive, verified, from a real libtorrent seeder on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import libtorrent as lt
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from musark.archive import Archive
from musark.mirror.download import fetch_lock, resume_path, staging_dir
from musark.mirror.session import parse_peer
from tests.mirror.released import UNARCHIVED_ISRC, Released, Seeder, build_released, make_mirror
from tests.pack.swarm import tracker

SRC = str(Path(__file__).resolve().parents[2] / "src")


def mirrored(mirror: Archive) -> set[str]:
    """Every file under files/, as '<batch>/<path>'."""
    if not mirror.files_dir.exists():
        return set()
    return {
        p.relative_to(mirror.files_dir).as_posix()
        for p in mirror.files_dir.rglob("*")
        if p.is_file()
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_one_track_by_isrc_brings_exactly_that_file(
    released: Released, seeder: Seeder, mirror: Archive, cli
):
    t = released.by_batch("keep__0001")[2]
    out = cli.json("fetch", t.isrc.lower(), "--peer", seeder.peer, "--archive", mirror.root)
    assert out["ok"] and out["counts"] == {"fetched": 1}
    assert out["resolved"] == [{"query": t.isrc.lower(), "kind": "isrc", "track_id": t.id}]
    assert mirrored(mirror) == {f"{t.batch}/{t.path}"}
    assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256
    # Nothing of the other files was written anywhere a user would see them.
    assert not (staging_dir(mirror) / t.batch / t.path).exists()

    # A second track, from another batch, joins the first.
    u = released.by_batch("opus75__0001")[5]
    out = cli.json("fetch", u.id, "--peer", seeder.peer, "--archive", mirror.root)
    assert out["counts"] == {"fetched": 1}
    assert mirrored(mirror) == {f"{t.batch}/{t.path}", f"{u.batch}/{u.path}"}
    assert sha256(mirror.batch_dir(u.batch) / u.path) == u.sha256

    # Asking again downloads nothing: the verified file is already here.
    out = cli.json("fetch", u.id, "--peer", seeder.peer, "--archive", mirror.root)
    assert out["counts"] == {"present": 1}


def test_fetch_a_playlist_of_20_tracks_across_3_batches(
    released: Released, seeder: Seeder, mirror: Archive, cli, tmp_path: Path
):
    picks = released.tracks[1:21]
    assert len({t.batch for t in picks}) == 3
    # A playlist mixes query kinds: ids, ISRCs and 'artist - title'.
    lines = ["# my playlist", ""]
    for i, t in enumerate(picks):
        lines.append([t.id, t.isrc, f"{t.artist} - {t.title}"][i % 3])
    playlist = tmp_path / "playlist.txt"
    playlist.write_text("\n".join(lines) + "\n")
    out = cli.json(
        "fetch", "--from-file", playlist, "--peer", seeder.peer, "--archive", mirror.root
    )
    assert out["ok"] and out["counts"] == {"fetched": 20}
    assert mirrored(mirror) == {f"{t.batch}/{t.path}" for t in picks}
    for t in picks:
        assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256


def test_fetch_from_a_magnet_when_the_torrent_file_is_absent(
    released: Released, seeder: Seeder, mirror: Archive, cli
):
    t = released.by_batch("keep__0002")[6]
    (mirror.torrents_dir / f"{t.batch}.torrent").unlink()
    out = cli.json("fetch", t.id, "--peer", seeder.peer, "--archive", mirror.root)
    assert out["counts"] == {"fetched": 1}
    assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256


def test_unknown_and_unarchived_queries_are_reported(seeder: Seeder, mirror: Archive, cli):
    cli(
        "fetch",
        "zz-nothing-zz",
        UNARCHIVED_ISRC,
        "--peer",
        seeder.peer,
        "--archive",
        mirror.root,
        "--json",
        ok=False,
    )
    assert cli.last.exit_code == 1
    assert '"not_found": [\n    "zz-nothing-zz"' in cli.last.stdout
    assert f'"not_archived": [\n    "{UNARCHIVED_ISRC}"' in cli.last.stdout


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_fetch_resumes_and_completes(
    released: Released, mirror: Archive, tmp_path: Path, sig: signal.Signals
):
    # A throttled seeder of its own, so the transfer is still running when the fetch is killed.
    slow = Seeder(released, tmp_path / "slow")
    try:
        slow.throttle(64 * 1024)
        picks = released.by_batch("keep__0002")
        want = [t.id for t in picks]
        total = sum(t.size for t in picks)
        assert total > 5 * 64 * 1024
        cmd = [
            sys.executable,
            "-m",
            "musark",
            "fetch",
            *want,
            "--peer",
            slow.peer,
            "--archive",
            str(mirror.root),
        ]
        env = {**os.environ, "PYTHONPATH": SRC}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rp = resume_path(mirror, released_btih(mirror, "keep__0002"))
        deadline = time.monotonic() + 60
        while pieces_saved(rp) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, "fetch finished before it could be interrupted"
        assert pieces_saved(rp) >= 8, "no resume data with progress was saved while downloading"
        proc.send_signal(sig)
        assert proc.wait(timeout=30) != 0
        assert pieces_saved(rp) >= 8
        assert mirrored(mirror) == set()  # nothing unverified is visible in the mirror
        slow.throttle(0)
        done = subprocess.run(
            [*cmd, "--json"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        (torrent,) = json.loads(done.stdout)["torrents"]
        # The rerun continued: it received less than the files' size.
        assert torrent["wanted_bytes"] == total
        assert 0 < torrent["downloaded_bytes"] < total
        assert mirrored(mirror) == {f"{t.batch}/{t.path}" for t in picks}
        for t in picks:
            assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256
        assert not rp.exists()
    finally:
        slow.close()


def pieces_saved(resume: Path) -> int:
    """How many pieces libtorrent's resume data says are on disk (0 when there is none yet)."""
    try:
        bits = lt.bdecode(resume.read_bytes())[b"pieces"]
    except (OSError, TypeError, KeyError):
        return 0
    return sum(bin(b).count("1") for b in bits)


def released_btih(mirror: Archive, batch: str) -> str:
    return str(lt.torrent_info(str(mirror.torrents_dir / f"{batch}.torrent")).info_hashes().v1)


def test_fetch_over_a_damaged_copy_keeps_the_old_file_aside(
    released: Released, seeder: Seeder, mirror: Archive, cli
):
    t = released.by_batch("opus75__0001")[0]
    dest = mirror.batch_dir(t.batch) / t.path
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"my own damaged copy")
    out = cli.json("fetch", t.id, "--peer", seeder.peer, "--archive", mirror.root)
    assert out["counts"] == {"fetched": 1}
    assert sha256(dest) == t.sha256
    assert Path(out["files"][0]["replaced"]).read_bytes() == b"my own damaged copy"


def test_a_second_fetch_on_the_same_mirror_is_refused_while_one_runs(
    released: Released, seeder: Seeder, mirror: Archive, cli
):
    with fetch_lock(mirror):
        cli(
            "fetch",
            released.tracks[0].id,
            "--peer",
            seeder.peer,
            "--archive",
            mirror.root,
            ok=False,
        )
    assert cli.last.exit_code == 2 and "another musark fetch" in cli.last.stderr
    assert mirrored(mirror) == set()


def test_fetch_from_a_web_seed_alone(released: Released, seeder: Seeder, mirror: Archive, cli):
    # A real HTTP server (uvicorn + Starlette StaticFiles, which answers Range requests) over the
    # seeder's files, named in the torrent's url-list (BEP 19). The url-list is outside the info
    # dict, so the infohash recorded in the index still matches.
    app = Starlette(routes=[Mount("/", StaticFiles(directory=seeder.files))])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        t = released.by_batch("keep__0001")[6]
        path = mirror.torrents_dir / f"{t.batch}.torrent"
        meta = lt.bdecode(path.read_bytes())
        meta[b"url-list"] = [f"http://127.0.0.1:{port}/".encode()]
        path.write_bytes(lt.bencode(meta))
        out = cli.json("fetch", t.id, "--archive", mirror.root)  # no --peer: the web seed only
        assert out["counts"] == {"fetched": 1}
        assert mirrored(mirror) == {f"{t.batch}/{t.path}"}
        assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256
    finally:
        server.should_exit = True
        thread.join(10)


def test_fetch_finds_the_seeder_through_the_torrents_tracker(
    released: Released, seeder: Seeder, mirror: Archive, cli
):
    t = released.by_batch("keep__0002")[1]
    with tracker([parse_peer(seeder.peer)]) as announce:
        # The announce URL lives outside the info dict: the infohash in the index is unchanged.
        path = mirror.torrents_dir / f"{t.batch}.torrent"
        meta = lt.bdecode(path.read_bytes())
        meta[b"announce"] = announce.encode()
        path.write_bytes(lt.bencode(meta))
        out = cli.json("fetch", t.isrc, "--archive", mirror.root)  # no --peer
    assert out["counts"] == {"fetched": 1}
    assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256


@pytest.mark.parametrize("fmt", ["hybrid", "v2"])
def test_fetch_from_v2_and_hybrid_torrents(fmt: str, tmp_path: Path, cli):
    # BEP 47 pad files shift the file indices; the index records the indices clients use.
    rel = build_released(tmp_path / "archive", per_batch=6, fmt=fmt, batches=("keep__0001",))
    mirror = make_mirror(rel, tmp_path / "mirror")
    seeder = Seeder(rel, tmp_path)
    try:
        picks = rel.tracks[1::2]
        layout = lt.torrent_info(str(mirror.torrents_dir / "keep__0001.torrent")).layout()
        pads = [i for i in range(layout.num_files()) if layout.file_flags(i) & layout.flag_pad_file]
        assert pads and min(pads) < max(t.file_index for t in picks)  # indices count the pads
        out = cli.json(
            "fetch", *(t.id for t in picks), "--peer", seeder.peer, "--archive", mirror.root
        )
        assert out["counts"] == {"fetched": len(picks)}
        assert mirrored(mirror) == {f"{t.batch}/{t.path}" for t in picks}
        for t in picks:
            assert sha256(mirror.batch_dir(t.batch) / t.path) == t.sha256
    finally:
        seeder.close()
