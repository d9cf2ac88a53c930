"""The web player at `/`, driven by headless Debian Chromium against a real `musark serve`.

A listener signs in, types into the search box, opens an album from the results, presses Play
and hears it: the <audio> element's currentTime advances. Screenshots of each step are saved
as test artefacts for a human to look at.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from musark.serve.app import STATIC_DIR
from tests.conftest import require_tool
from tests.serve.conftest import LISTENER, LISTENER_PW, Running

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
CURRENT_TIME = "document.querySelector('#audio').currentTime"


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


def sign_in(page, url: str, user: str = LISTENER, password: str = LISTENER_PW) -> None:
    """Open the player and sign in through its form."""
    page.goto(url)
    page.fill("#login-user", user)
    page.fill("#login-pass", password)
    page.click("#login-submit")


def test_the_player_is_served_at_root_and_loads_nothing_from_elsewhere(running: Running):
    html = running.http.get(f"{running.url}/").text
    assert '<script type="module" src="js/main.js">' in html
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            rel = path.relative_to(STATIC_DIR).as_posix()
            resp = running.http.get(f"{running.url}/{rel}")
            assert resp.status_code == 200, rel
            # The only absolute URL allowed is the SVG namespace name, which is never fetched.
            text = resp.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
            assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), rel


def test_md5_in_the_browser_matches_python(running: Running, browser_page):
    page = browser_page
    page.goto(running.url)
    samples = ["", "abc", LISTENER_PW + "c0ffee", "s3cret-Pässword" + "ab12", "東京の夜" * 40]
    got = page.evaluate(
        "async (xs) => { const { md5 } = await import('./js/md5.js'); return xs.map(md5); }",
        samples,
    )
    assert got == [hashlib.md5(x.encode()).hexdigest() for x in samples]


def test_wrong_password_is_refused_with_a_message(running: Running, browser_page):
    sign_in(browser_page, running.url, password="not-the-password")
    browser_page.wait_for_selector("#login-error:has-text('Wrong username or password')")
    assert browser_page.evaluate("localStorage.getItem('musark.session')") is None


def test_sign_in_search_open_album_and_play(running: Running, browser_page, artifacts_dir):
    page = browser_page
    sign_in(page, running.url)
    page.wait_for_selector(".album-card")
    page.screenshot(path=str(artifacts_dir / "web-player-home.png"))

    # Search as you type: results appear without pressing Enter.
    page.type("#search", "first light", delay=40)
    card = ".search-results .album-card[title='First Light']"
    page.wait_for_selector(card)
    page.screenshot(path=str(artifacts_dir / "web-player-search.png"))

    page.click(card)
    page.wait_for_selector("#album-title")
    assert page.inner_text("#album-title") == "First Light"
    assert page.locator(".song-row").count() == 3
    page.wait_for_function(
        "[...document.querySelectorAll('.cover.big img')].some(i => i.complete && i.naturalWidth > 0)"
    )

    page.click("#play-album")
    page.wait_for_function(f"{CURRENT_TIME} > 0.2", polling=50, timeout=30_000)
    first = page.evaluate(CURRENT_TIME)
    page.wait_for_function(f"{CURRENT_TIME} > {first + 0.3}", polling=50, timeout=30_000)
    assert page.inner_text("#now-title") == "Analytical Engine"
    assert page.locator(".song-row.current .title").inner_text() == "Analytical Engine"

    page.click("#btn-queue")
    page.wait_for_selector(".queue-item.current")
    assert page.locator(".queue-item").count() == 3
    page.screenshot(path=str(artifacts_dir / "web-player-album.png"))

    page.click("#btn-play")
    page.wait_for_function("document.querySelector('#audio').paused")
    page.click("#btn-next")
    page.wait_for_function(
        "document.querySelector('#now-title').textContent === 'Bernoulli Numbers'"
    )

    # On a phone-sized screen the same page stacks up and every control stays on screen.
    page.set_viewport_size({"width": 400, "height": 820})
    page.click("#queue-close")
    controls = (
        "#search",
        "#logout",
        "#btn-play",
        "#btn-next",
        "#seek",
        "#btn-queue",
        "#play-album",
    )
    for control in controls:
        box = page.locator(control).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 400, control
        assert box["y"] >= 0 and box["y"] + box["height"] <= 820, control
    page.screenshot(path=str(artifacts_dir / "web-player-phone.png"))
    assert not page.errors, page.errors


def test_tracks_missing_from_the_mirror_are_shown_unavailable(
    running: Running, browser_page, artifacts_dir
):
    page = browser_page
    sign_in(page, running.url)
    page.wait_for_selector(".album-card")
    page.goto(f"{running.url}/#/album/al-al4")
    page.wait_for_selector("#album-title:has-text('Loud Silence')")
    unavailable = page.locator(".song-row.unavailable .title")
    assert sorted(t.split("not in mirror")[0].strip() for t in unavailable.all_inner_texts()) == [
        "Silence Is Loud",
        "Unreleased Take",
    ]
    page.screenshot(path=str(artifacts_dir / "web-player-unavailable.png"))

    # Clicking one does nothing; playing the album plays only what is there, then stops.
    page.click(".song-row.unavailable >> nth=0")
    assert page.evaluate("document.querySelector('#audio').src") == ""
    page.click("#play-album")
    page.wait_for_function("document.querySelector('#now-title')?.textContent === 'Whisper'")
    page.wait_for_function("document.querySelector('#audio').ended", timeout=30_000)
    assert page.inner_text("#now-title") == "Whisper"


def test_shuffle_plays_random_songs_from_the_whole_archive(running: Running, browser_page):
    page = browser_page
    sign_in(page, running.url)
    page.wait_for_selector("#shuffle-all")
    page.click("#shuffle-all")
    page.wait_for_function(f"{CURRENT_TIME} > 0.2", polling=50, timeout=30_000)
    page.click("#btn-queue")
    titles = page.locator(".queue-item .q-title").all_inner_texts()
    assert titles and {"Silence Is Loud", "Unreleased Take"}.isdisjoint(titles)
    assert page.evaluate("document.body.classList.contains('shuffle-on')")


def test_session_survives_a_reload_and_sign_out_forgets_it(running: Running, browser_page):
    page = browser_page
    sign_in(page, running.url)
    page.wait_for_selector(".album-card")
    stored = page.evaluate("localStorage.getItem('musark.session')")
    assert LISTENER_PW not in stored  # only the token and its salt are kept

    page.reload()
    page.wait_for_selector(".album-card")
    assert page.is_hidden(".login")

    page.click("#logout")
    page.wait_for_selector("#login-form", state="visible")
    assert page.evaluate("localStorage.getItem('musark.session')") is None
