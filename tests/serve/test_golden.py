"""Golden snapshots of every response type in XML and JSON (as Navidrome's responses/ package keeps).

Regenerate after an intended change with ``MUSARK_UPDATE_GOLDEN=1 pytest tests/serve/test_golden.py``
and review the diff. Times that depend on when the test runs (and encoded sizes) are normalised to ``<volatile>``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from musark.serve.app import create_app
from musark.serve.users import UserStore
from tests.serve.conftest import ADMIN, ADMIN_PW, LISTENER, LISTENER_PW, Running, _start, free_port
from tests.serve.released import build_released

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MUSARK_UPDATE_GOLDEN") == "1"
# Sizes of generated audio depend on the encoder build; times on when the test runs.
VOLATILE = ("starred", "played", "changed", "lastModified", "serverVersion", "size")
_ISO_NOW = re.compile(r"\d{4}-\d\d-\d\dT(?!00:00:00)\d\d:\d\d:\d\d\.\d{3}Z")

CASES: list[tuple[str, str, dict]] = [
    ("ping", "ping", {}),
    ("license", "getLicense", {}),
    ("scan_status", "getScanStatus", {}),
    ("extensions", "getOpenSubsonicExtensions", {}),
    ("music_folders", "getMusicFolders", {}),
    ("indexes", "getIndexes", {}),
    ("artists", "getArtists", {}),
    ("artist", "getArtist", {"id": "ar-ar2"}),
    ("artist_info2", "getArtistInfo2", {"id": "ar-ar1"}),
    ("album", "getAlbum", {"id": "al-al4"}),
    ("album_info2", "getAlbumInfo2", {"id": "al-al2"}),
    ("song", "getSong", {"id": "tr-t07"}),
    ("directory", "getMusicDirectory", {"id": "al-al2"}),
    ("search2", "search2", {"query": "deja"}),
    ("search3", "search3", {"query": "東京"}),
    (
        "search3_empty",
        "search3",
        {"query": "", "artistCount": 2, "albumCount": 1, "songCount": 2, "songOffset": 5},
    ),
    ("album_list", "getAlbumList", {"type": "newest", "size": 2}),
    ("album_list2", "getAlbumList2", {"type": "alphabeticalByName", "size": 2}),
    ("genres", "getGenres", {}),
    ("songs_by_genre", "getSongsByGenre", {"genre": "chanson"}),
    ("starred", "getStarred", {}),
    ("starred2", "getStarred2", {}),
    ("playlists", "getPlaylists", {}),
    ("playlist", "getPlaylist", {"id": "pl-1"}),
    ("user", "getUser", {"username": LISTENER}),
    ("lyrics", "getLyrics", {"artist": "a", "title": "t"}),
    ("now_playing", "getNowPlaying", {}),
    ("error_missing", "getAlbum", {}),
    ("error_not_found", "getSong", {"id": "tr-nope"}),
]


@pytest.fixture(scope="module")
def golden_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A fresh archive whose listener starred one item of each kind and made one playlist."""
    rel = build_released(tmp_path_factory.mktemp("golden") / "archive")
    users = UserStore(rel.archive)
    users.add(ADMIN, ADMIN_PW, admin=True)
    users.add(LISTENER, LISTENER_PW)
    port = free_port()
    server, thread = _start(create_app(rel.archive), port)
    with httpx.Client(timeout=30) as http:
        r = Running(f"http://127.0.0.1:{port}", port, rel, http)
        r.json("star", id=["tr-t05", "al-al3", "ar-ar4"])
        r.json("createPlaylist", name="golden", songId=["tr-t02", "tr-t11"])
        yield r
    server.should_exit = True
    thread.join(10)


def _normalise_json(obj):
    if isinstance(obj, dict):
        return {
            k: "<volatile>"
            if k in VOLATILE or (k == "created" and _ISO_NOW.fullmatch(str(v)))
            else _normalise_json(v)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_normalise_json(v) for v in obj]
    return obj


def _normalise_xml(text: str) -> str:
    for key in VOLATILE:
        text = re.sub(rf' {key}="[^"]*"', f' {key}="<volatile>"', text)
    text = re.sub(rf' created="{_ISO_NOW.pattern}"', ' created="<volatile>"', text)
    return text.replace("><", ">\n<") + "\n"


def _check(path: Path, actual: str) -> None:
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} missing; run with MUSARK_UPDATE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from its golden snapshot"
    )


@pytest.mark.parametrize(("name", "method", "params"), CASES, ids=[c[0] for c in CASES])
def test_golden(golden_server: Running, name: str, method: str, params: dict):
    xml = golden_server.get(method, f="xml", **params)
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    _check(GOLDEN / f"{name}.xml", _normalise_xml(xml.text))
    body = golden_server.get(method, f="json", **params).json()
    _check(
        GOLDEN / f"{name}.json",
        json.dumps(_normalise_json(body), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
    )


def test_jsonp_wraps_the_json_body(golden_server: Running):
    resp = golden_server.get("ping", f="jsonp", callback="cb_1")
    assert resp.text.startswith("cb_1({") and resp.text.endswith("});")
    assert "javascript" in resp.headers["content-type"]
    # A callback that is not a plain identifier is not echoed (no script injection).
    assert golden_server.get("ping", f="jsonp", callback="alert(1)//").text.startswith("{")
