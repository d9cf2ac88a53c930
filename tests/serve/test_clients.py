"""Real Subsonic clients drive a real server: py-sonic (token auth, form POST) and py-opensonic (apiKey)."""

from __future__ import annotations

import asyncio
import io

import libopensonic
import libsonic
from PIL import Image

from tests.serve.conftest import LISTENER, LISTENER_PW, Running


def _pysonic(running: Running) -> libsonic.Connection:
    # py-sonic POSTs a form by default and signs with t = md5(password + salt).
    return libsonic.Connection(
        "http://127.0.0.1", LISTENER, LISTENER_PW, port=running.port, appName="tests"
    )


def test_pysonic_browses_searches_and_shuffles(running: Running):
    c = _pysonic(running)
    assert c.ping() is True
    letters = {i["name"]: i["artist"] for i in c.getArtists()["artists"]["index"]}
    assert [a["name"] for a in letters["A"]] == ["Ada Lovelace Ensemble"]
    album = c.getAlbum("al-al1")["album"]
    assert [s["title"] for s in album["song"]] == [
        "Analytical Engine",
        "Bernoulli Numbers",
        "Poetical Science",
    ]
    hits = c.search3("deja vu")["searchResult3"]
    assert [a["name"] for a in hits["album"]] == ["Déjà Vu"]
    assert hits["song"][0]["title"] == "Déjà Vu"
    songs = c.getRandomSongs(size=5)["randomSongs"]["song"]
    assert len(songs) == 5 and len({s["id"] for s in songs}) == 5


def test_pysonic_empty_query_pages_through_every_song(running: Running):
    c = _pysonic(running)
    seen: list[str] = []
    offset = 0
    while True:
        page = c.search3("", artistCount=0, albumCount=0, songCount=5, songOffset=offset)
        songs = page["searchResult3"].get("song", [])
        if not songs:
            break
        seen += [s["id"] for s in songs]
        offset += len(songs)
    assert len(seen) == 12 and len(set(seen)) == 12


def test_pysonic_stream_returns_the_archived_bytes(running: Running):
    c = _pysonic(running)
    for tid in ("t01", "t04", "t07"):
        assert c.stream(f"tr-{tid}").read() == running.released.files[tid].read_bytes()


def test_pysonic_cover_art_is_resized(running: Running):
    img = Image.open(io.BytesIO(_pysonic(running).getCoverArt("al-al1", size=120).read()))
    assert max(img.size) == 120


def test_pysonic_playlists_and_stars(running: Running):
    c = _pysonic(running)
    created = c.createPlaylist(name="road trip", songIds=["tr-t01", "tr-t05"])["playlist"]
    pid = created["id"]
    assert [e["id"] for e in created["entry"]] == ["tr-t01", "tr-t05"]
    c.updatePlaylist(pid, name="road trip 2", songIdsToAdd=["tr-t09"], songIndexesToRemove=[0])
    pl = c.getPlaylist(pid)["playlist"]
    assert pl["name"] == "road trip 2"
    assert [e["id"] for e in pl["entry"]] == ["tr-t05", "tr-t09"]
    assert pid in [p["id"] for p in c.getPlaylists()["playlists"]["playlist"]]
    c.deletePlaylist(pid)
    assert pid not in [p["id"] for p in c.getPlaylists()["playlists"].get("playlist", [])]

    c.star(sids=["tr-t02"], albumIds=["al-al2"], artistIds=["ar-ar3"])
    starred = c.getStarred2()["starred2"]
    assert [s["id"] for s in starred["song"]] == ["tr-t02"]
    assert [a["id"] for a in starred["album"]] == ["al-al2"]
    assert [a["id"] for a in starred["artist"]] == ["ar-ar3"]
    assert "starred" in c.getSong("tr-t02")["song"]
    c.unstar(sids=["tr-t02"], albumIds=["al-al2"], artistIds=["ar-ar3"])
    assert c.getStarred2()["starred2"].get("song", []) == []


def _opensonic(running: Running, key: str) -> libopensonic.Connection:
    return libopensonic.Connection(
        "http://127.0.0.1", api_key=key, port=running.port, server_path=""
    )


def test_opensonic_with_api_key(running: Running, api_key: str):
    c = _opensonic(running, api_key)
    try:
        assert c.ping() is True
        names = {e.name for e in c.get_open_subsonic_extensions()}
        assert {"formPost", "apiKeyAuthentication"} <= names
        assert any(i.name == "E" for i in c.get_artists().index)
        album = c.get_album("al-al3")
        assert album.name == "夜の歌" and [s.title for s in album.song] == [
            "東京タワー",
            "夜の歌",
            "桜",
        ]
        result = c.search3("東京")
        assert [a.name for a in result.artist] == ["東京の夜"]
        assert "東京タワー" in [s.title for s in result.song]
        assert len(c.get_random_songs(size=3)) == 3
        assert c.create_playlist(name="api", song_ids=["tr-t10"])
        mine = [p for p in c.get_playlists() if p.name == "api"]
        assert len(mine) == 1 and mine[0].song_count == 1
        c.star(["tr-t06"])
        assert [s.id for s in c.get_starred2().song] == ["tr-t06"]
        c.unstar(["tr-t06"])
    finally:
        c.cleanup()


def test_opensonic_streams_and_fetches_cover(running: Running, api_key: str):
    async def go() -> tuple[bytes, bytes]:
        c = libopensonic.AsyncConnection(
            "http://127.0.0.1", api_key=api_key, port=running.port, server_path=""
        )
        try:
            audio = await (await c.stream("tr-t06")).read()
            cover = await (await c.get_cover_art("al-al2", size=64)).read()
        finally:
            await c.cleanup()
        return audio, cover

    audio, cover = asyncio.run(go())
    assert audio == running.released.files["t06"].read_bytes()
    assert Image.open(io.BytesIO(cover)).size == (64, 64)
