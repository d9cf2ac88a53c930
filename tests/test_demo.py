"""`musark demo` from a fresh clone: builds, verifies and summarises an archive, then serves it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import libsonic
import pytest

from musark.demo import DEMO_PASSWORD, DEMO_USER, demo_settings
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
SMALL = (
    "--tracks",
    "20000",
)  # the same pipeline as `make demo`'s 200,000, in a fraction of the time


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A temporary clone of the repository: the demo must work from committed files alone."""
    require_tool("git")
    dest = tmp_path_factory.mktemp("clone") / "musark"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    return dest


def _env(clone: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    env.pop("MUSARK_ARCHIVE", None)
    return env


def _demo_json(clone: Path, out: Path) -> dict:
    """Run `musark demo OUT --no-serve --json` from the clone; return its summary."""
    proc = subprocess.run(
        [sys.executable, "-m", "musark", "demo", str(out), "--no-serve", "--json", *SMALL],
        cwd=clone,
        env=_env(clone),
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def built(clone: Path, tmp_path_factory) -> tuple[Path, dict]:
    """The demo built once for this module: its directory and summary."""
    out = tmp_path_factory.mktemp("demo") / "archive"
    return out, _demo_json(clone, out)


def test_demo_summary_shows_the_whole_pipeline(built):
    root, s = built
    assert s["tracks"] > 19_000 and s["rejects"] > 0  # malformed rows were caught, not dropped
    assert 0 < s["planned_files"] < s["tracks"] and 90 < s["coverage_pct"] <= 100
    assert s["batches"]["released"] == 2 and s["batches"]["planned"] > 2
    tiers = {t["tier"]: t for t in s["tiers"]}
    assert set(tiers) == {"keep", "opus75"} and all(t["files"] > 0 for t in tiers.values())
    assert len(s["quarantined"]) == 2 and all(q["reason"] for q in s["quarantined"])
    assert s["verify"]["passed"] is True and s["verify"]["corrupt"] == 0
    assert s["verify"]["ok"] == s["files"] > 0
    names = {t["name"] for t in s["torrents"]}
    assert {"keep__0001", "opus75__0001", "index"} <= names
    assert all(len(t["btih"]) == 40 for t in s["torrents"])
    assert (root / "release" / "index" / "musark_index.sqlite3.zst").exists()
    assert (root / "musark.toml").read_text() == demo_settings(16)


def test_demo_rerun_reuses_what_is_there(built, clone):
    root, first = built
    again = _demo_json(clone, root)
    steps = {s["step"]: s for s in again["steps"]}
    assert steps["generate audio"]["generated"] == 0
    assert steps["release"]["released"] == [] and len(steps["release"]["unchanged"]) == 2
    assert [t["btih"] for t in again["torrents"]] == [t["btih"] for t in first["torrents"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_the_archive_to_a_subsonic_client(built, clone):
    root, _ = built
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "musark", "demo", str(root), "--port", str(port), *SMALL],
        cwd=clone,
        env=_env(clone),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        conn = libsonic.Connection(
            "http://127.0.0.1", DEMO_USER, DEMO_PASSWORD, port=port, appName="musark-test"
        )
        deadline = time.monotonic() + 600
        while True:
            try:
                if conn.ping():  # py-sonic answers False, or raises, until the server is up
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"demo server did not come up:\n{server.stdout.read()}")
            time.sleep(1)
        song = conn.getRandomSongs(size=1)["randomSongs"]["song"][0]
        # Title, artist and album together: a common title alone may rank more popular songs first.
        words = f"{song['title']} {song.get('artist', '')} {song.get('album', '')}"
        found = conn.search3(words, artistCount=1, albumCount=1, songCount=50)
        assert song["id"] in [s["id"] for s in found["searchResult3"].get("song", [])], words
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
