"""The serve commands: user management, `musark index`, and `musark serve` as a real process."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time

import httpx

from musark.serve.users import UserStore
from tests.serve.conftest import free_port
from tests.serve.released import build_released


def test_user_commands(archive, cli):
    assert cli.json("user", "add", "dana", "--password", "pw-1", "--admin", "-a", archive.root) == {
        "user": "dana",
        "role": "admin",
    }
    cli("user", "add", "eve", "--password", "pw-2", "-a", archive.root)
    users = cli.json("user", "list", "-a", archive.root)["users"]
    assert [(u["name"], u["role"]) for u in users] == [("dana", "admin"), ("eve", "listener")]
    key = cli.json("user", "apikey", "eve", "-a", archive.root)["api_key"]
    store = UserStore(archive)
    assert store.user_for_key(key).name == "eve"
    cli("user", "passwd", "eve", "--password", "pw-3", "-a", archive.root)
    assert store.password("eve") == "pw-3"
    assert (
        "already exists"
        in cli("user", "add", "eve", "--password", "x", "-a", archive.root, ok=False)
        + cli.last.output
    )
    cli("user", "remove", "eve", "-a", archive.root)
    assert store.user_for_key(key) is None
    assert (
        cli("user", "remove", "eve", "-a", archive.root, ok=False) == "" and cli.last.exit_code == 1
    )


def test_passwords_are_encrypted_at_rest_under_a_private_key(archive, cli):
    cli("user", "add", "fay", "--password", "very-secret-words", "-a", archive.root)
    key_file = archive.state_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    raw = (archive.state_dir / "users.sqlite3").read_bytes()
    assert b"very-secret-words" not in raw
    assert UserStore(archive).password("fay") == "very-secret-words"


def test_index_command_builds_then_reuses(tmp_path, cli):
    rel = build_released(tmp_path / "archive")
    first = cli.json("index", "-a", rel.archive.root)
    assert first["rebuilt"] is True and first["song"] == 12 and first["documents"] == 20
    assert (rel.archive.search_dir / "library.sqlite3").exists()
    assert cli.json("index", "-a", rel.archive.root)["rebuilt"] is False


def test_serve_command_runs_on_loopback(tmp_path):
    rel = build_released(tmp_path / "archive")
    UserStore(rel.archive).add("gus", "pw")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "musark", "serve", "-a", str(rel.archive.root), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        token = hashlib.md5(b"pwxy").hexdigest()
        url = f"http://127.0.0.1:{port}/rest/ping.view?u=gus&t={token}&s=xy&f=json"
        deadline = time.monotonic() + 60
        while True:
            try:
                body = httpx.get(url).json()["subsonic-response"]
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert body["status"] == "ok"
        # Built on first serve.
        assert (rel.archive.search_dir / "tantivy").is_dir()
    finally:
        proc.terminate()
        proc.wait(20)
    log = proc.stdout.read().decode() if proc.stdout else ""
    # The access log shows the request but never the token.
    assert "/rest/ping.view?u=gus&t=***&s=***" in log and token not in log


def test_index_rebuilds_a_search_index_left_stale_by_a_killed_build(tmp_path, cli):
    rel = build_released(tmp_path / "archive")
    cli.json("index", "-a", rel.archive.root)
    # As if a build was killed after replacing library.sqlite3 but before the search index.
    (rel.archive.search_dir / "tantivy" / "musark_stamp.txt").write_text("older index")
    assert cli.json("index", "-a", rel.archive.root)["rebuilt"] is True
    assert cli.json("index", "-a", rel.archive.root)["rebuilt"] is False
