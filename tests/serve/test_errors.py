"""Bad input gets the documented Subsonic error in an HTTP 200 body (or an HTTP 416 for a Range), never a 500."""

from __future__ import annotations

import pytest

from tests.serve.conftest import ADMIN, ADMIN_PW, LISTENER, Running


def _error(running: Running, method: str, **params) -> dict:
    resp = running.get(method, **params)
    assert resp.status_code == 200, resp.text
    body = resp.json()["subsonic-response"]
    assert body["status"] == "failed", body
    return body["error"]


@pytest.mark.parametrize(
    ("method", "params", "missing"),
    [
        ("getAlbum", {}, "id"),
        ("getArtist", {}, "id"),
        ("getSong", {}, "id"),
        ("stream", {}, "id"),
        ("getCoverArt", {}, "id"),
        ("search3", {}, "query"),
        ("getAlbumList2", {}, "type"),
        ("getAlbumList2", {"type": "byGenre"}, "genre"),
        ("getAlbumList2", {"type": "byYear", "fromYear": "2000"}, "toYear"),
        ("getSongsByGenre", {}, "genre"),
        ("createPlaylist", {}, "name"),
        ("star", {}, "id"),
        ("scrobble", {}, "id"),
        ("getUser", {}, "username"),
    ],
)
def test_missing_parameter_is_error_10(running: Running, method, params, missing):
    err = _error(running, method, **params)
    assert err["code"] == 10 and err["message"].endswith(missing)


@pytest.mark.parametrize(
    ("method", "value"),
    [
        ("getAlbum", "al-nope"),
        ("getAlbum", "ar-ar1"),
        ("getArtist", "ar-nope"),
        ("getSong", "tr-t99"),
        ("stream", "tr-t99"),
        ("download", "tr-t99"),
        ("getCoverArt", "al-nope"),
        ("getMusicDirectory", "tr-t01"),
        ("getPlaylist", "pl-999"),
        ("getPlaylist", "pl-abc"),
        ("getAlbum", "al1"),
    ],
)
def test_unknown_id_is_error_70(running: Running, method, value):
    assert _error(running, method, id=value)["code"] == 70


@pytest.mark.parametrize(
    "value",
    ["../../etc/passwd", "tr-../../etc/passwd", "tr-..", "tr-t01/../../x", "tr-%2e%2e", "tr-"],
)
def test_path_like_ids_never_reach_the_filesystem(running: Running, value):
    for method in ("stream", "download", "getCoverArt", "getSong"):
        err = _error(running, method, id=value)
        assert err["code"] == 70, (method, err)


def test_unknown_method_and_bad_values(running: Running):
    assert _error(running, "noSuchMethod")["code"] == 0
    assert _error(running, "getAlbumList2", type="sideways")["code"] == 0
    assert _error(running, "getRandomSongs", size="lots")["code"] == 0
    assert _error(running, "getRandomSongs", size="-1")["code"] == 0
    # Oversized page sizes are clamped (500), as clients expect, not refused.
    assert len(running.json("getRandomSongs", size="100000")["randomSongs"]["song"]) == 12


@pytest.mark.parametrize("size", ["0", "-5", "2049", "99999999999", "big"])
def test_oversized_or_invalid_cover_size_is_error_0(running: Running, size):
    err = _error(running, "getCoverArt", id="al-al1", size=size)
    assert err["code"] == 0 and "size" in err["message"]


def test_index_only_track_is_listed_but_not_streamable(running: Running):
    song = running.json("getSong", id="tr-t11")["song"]
    assert song["title"] == "Silence Is Loud" and song["musarkAvailable"] is False
    err = _error(running, "stream", id="tr-t11")
    assert (
        err["code"] == 70
        and "not in this mirror" in err["message"]
        and "keep-0002" in err["message"]
    )
    never = running.json("getSong", id="tr-t12")["song"]
    assert never["musarkAvailable"] is False and "suffix" not in never
    assert "not archived" in _error(running, "stream", id="tr-t12")["message"]
    assert running.json("getSong", id="tr-t10")["song"]["musarkAvailable"] is True


def test_range_past_the_end_is_http_416(running: Running):
    size = running.released.files["t01"].stat().st_size
    resp = running.http.get(
        f"{running.url}/rest/stream",
        params=dict(running.get("ping").request.url.params) | {"id": "tr-t01"},
        headers={"Range": f"bytes={size + 10}-"},
    )
    assert resp.status_code == 416
    assert resp.headers["content-range"] == f"bytes */{size}"


def test_listener_is_not_admin_error_50(running: Running):
    assert _error(running, "getUser", username=ADMIN)["code"] == 50
    assert _error(running, "getUsers")["code"] == 50
    assert running.json("getUser", username=LISTENER)["user"]["adminRole"] is False
    admin_view = running.json("getUser", user=ADMIN, password=ADMIN_PW, username=LISTENER)
    assert admin_view["user"]["username"] == LISTENER


def test_other_users_private_playlist_is_error_50(running: Running):
    pid = running.json("createPlaylist", user=ADMIN, password=ADMIN_PW, name="mine")["playlist"][
        "id"
    ]
    assert _error(running, "getPlaylist", id=pid)["code"] == 50
    assert _error(running, "deletePlaylist", id=pid)["code"] == 50
    running.json("deletePlaylist", user=ADMIN, password=ADMIN_PW, id=pid)
