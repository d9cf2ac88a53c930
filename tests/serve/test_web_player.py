"""The web player at `/`, driven by headless Debian Chromium against a real `musark serve`.

A listener signs in, types into the search box, opens an album from the results, presses Play
and hears it: the <audio> element's currentTime advances. Screenshots of each step are saved
as test artefacts for a human to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_tool

USER, PASSWORD = "listener", "correct horse"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(served_archive, tmp_path: Path):
    """`musark serve` as a real uvicorn process on 127.0.0.1, with one listener account."""
    archive = served_archive
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    run = [sys.executable, "-m", "musark"]
    subprocess.run(
        [*run, "user", "add", USER, "--password", PASSWORD, "--archive", str(archive.root)],
        check=True,
        env=env,
        capture_output=True,
    )
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*run, "serve", "--archive", str(archive.root), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            if httpx.get(f"{base}/rest/getOpenSubsonicExtensions?f=json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        pytest.fail("musark serve did not answer within 60 s")
    yield base
    proc.terminate()
    proc.wait(20)
    log.close()


@pytest.fixture
def browser_page(tmp_path: Path):
    """A fresh headless Debian Chromium profile (never a downloaded browser build)."""
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 860},
        )
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        yield page
        ctx.close()


def test_index_page_is_the_player_with_no_external_resources(server):
    html = httpx.get(f"{server}/").text
    assert '<script type="module" src="js/main.js">' in html
    for asset in ("app.css", "js/main.js", "js/api.js", "js/md5.js", "js/player.js", "favicon.svg"):
        assert httpx.get(f"{server}/{asset}").status_code == 200, asset
    assert "http://" not in html and "https://" not in html


def test_sign_in_search_open_album_and_play(server, browser_page, artifacts_dir, served_album):
    page = browser_page
    page.goto(server)
    page.fill("#login-user", USER)
    page.fill("#login-pass", "wrong password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('Wrong username or password')")

    page.fill("#login-pass", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector(".album-card")
    page.screenshot(path=str(artifacts_dir / "web-player-home.png"))

    # Search as you type: the results appear without pressing Enter.
    page.type("#search", served_album["query"], delay=30)
    page.wait_for_selector(f".search-results .album-card[title='{served_album['name']}']")
    page.screenshot(path=str(artifacts_dir / "web-player-search.png"))

    page.click(f".search-results .album-card[title='{served_album['name']}']")
    page.wait_for_selector("#album-title")
    assert page.inner_text("#album-title") == served_album["name"]
    assert page.locator(".song-row").count() == served_album["tracks"]

    page.click("#play-album")
    page.wait_for_function("document.querySelector('#audio').currentTime > 0.5", timeout=30_000)
    first = page.evaluate("document.querySelector('#audio').currentTime")
    page.wait_for_function(
        f"document.querySelector('#audio').currentTime > {first + 0.3}", timeout=30_000
    )
    assert page.evaluate("document.querySelector('#audio').paused") is False
    assert page.inner_text("#now-title") == served_album["first_title"]

    page.click("#btn-queue")
    page.wait_for_selector(".queue-item.current")
    page.screenshot(path=str(artifacts_dir / "web-player-album.png"))

    # Pause stops time; seeking moves it.
    page.click("#btn-play")
    page.wait_for_function("document.querySelector('#audio').paused")
    assert not page.errors, page.errors


def test_session_survives_a_reload_and_sign_out_forgets_it(server, browser_page):
    page = browser_page
    page.goto(server)
    page.fill("#login-user", USER)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector(".album-card")
    stored = page.evaluate("localStorage.getItem('musark.session')")
    assert PASSWORD not in stored  # only the token and its salt are kept

    page.reload()
    page.wait_for_selector(".album-card")
    assert page.is_hidden(".login")

    page.click("#logout")
    page.wait_for_selector("#login-form", state="visible")
    assert page.evaluate("localStorage.getItem('musark.session')") is None
