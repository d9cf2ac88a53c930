"""Browsing, lists, true shuffle, search ranking and scripts, annotations."""

from __future__ import annotations

from collections import Counter

import pytest

from musark.serve.indexing import build_index
from musark.serve.library_db import build_library, library_path
from musark.serve.search_index import Searcher, build_search
from tests.serve.conftest import Running
from tests.serve.released import build_released


def ids(items: list[dict]) -> list[str]:
    return [i["id"] for i in items]


def test_artist_lists_every_album_it_appears_on(running: Running):
    artist = running.json("getArtist", id="ar-ar2")["artist"]
    assert artist["name"] == "Émilie Brûlé"
    # Own album plus the album where she is the featured artist on t03.
    assert ids(artist["album"]) == ["al-al1", "al-al2"]
    assert running.json("getSong", id="tr-t03")["song"]["artist"] == (
        "Ada Lovelace Ensemble, Émilie Brûlé"
    )


def test_music_directory_walks_artist_then_album(running: Running):
    d = running.json("getMusicDirectory", id="ar-ar3")["directory"]
    assert ids(d["child"]) == ["al-al3"] and d["child"][0]["isDir"] is True
    d = running.json("getMusicDirectory", id="al-al3")["directory"]
    assert ids(d["child"]) == ["tr-t07", "tr-t08", "tr-t09"]
    idx = running.json("getIndexes")["indexes"]
    assert sum(len(i["artist"]) for i in idx["index"]) == 4


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "alphabeticalByName"}, ["al-al2", "al-al1", "al-al4", "al-al3"]),
        ({"type": "alphabeticalByName", "offset": "2", "size": "1"}, ["al-al4"]),
        ({"type": "newest"}, ["al-al4", "al-al2", "al-al1", "al-al3"]),
        ({"type": "highest", "size": "2"}, ["al-al1", "al-al2"]),
        ({"type": "byYear", "fromYear": "2016", "toYear": "2022"}, ["al-al1", "al-al2"]),
        ({"type": "byYear", "fromYear": "2022", "toYear": "2016"}, ["al-al2", "al-al1"]),
        ({"type": "byGenre", "genre": "jpop"}, ["al-al3"]),
        ({"type": "alphabeticalByArtist"}, ["al-al1", "al-al4", "al-al2", "al-al3"]),
    ],
)
def test_album_lists(running: Running, params, expected):
    assert ids(running.json("getAlbumList2", **params)["albumList2"].get("album", [])) == expected
    legacy = running.json("getAlbumList", **params)["albumList"].get("album", [])
    assert ids(legacy) == expected and all(a["isDir"] for a in legacy)


def test_random_album_list_is_distinct_albums(running: Running):
    got = ids(running.json("getAlbumList2", type="random", size="10")["albumList2"]["album"])
    assert sorted(got) == ["al-al1", "al-al2", "al-al3", "al-al4"]


def test_random_songs_draw_uniformly_from_the_whole_archive(running: Running):
    counts: Counter[str] = Counter()
    for _ in range(60):
        counts.update(ids(running.json("getRandomSongs", size="3")["randomSongs"]["song"]))
    # 180 draws over 12 songs: every song appears (a page of a sorted list would not).
    assert len(counts) == 12
    assert max(counts.values()) < 45


def test_random_songs_filters(running: Running):
    songs = running.json("getRandomSongs", size="20", fromYear="2019", toYear="2021")["randomSongs"]
    assert sorted(ids(songs["song"])) == [f"tr-t0{i}" for i in range(1, 7)]
    songs = running.json("getRandomSongs", size="20", genre="jpop")["randomSongs"]["song"]
    assert sorted(ids(songs)) == ["tr-t07", "tr-t08", "tr-t09"]
    songs = running.json("getRandomSongs", size="20", genre="jpop", fromYear="2020")["randomSongs"]
    assert songs.get("song", []) == []


def test_genres_and_songs_by_genre_paging(running: Running):
    genres = {g["value"]: g for g in running.json("getGenres")["genres"]["genre"]}
    assert genres["rock"]["songCount"] == 3 and genres["rock"]["albumCount"] == 1
    first = running.json("getSongsByGenre", genre="rock", count="2")["songsByGenre"]["song"]
    rest = running.json("getSongsByGenre", genre="rock", count="2", offset="2")["songsByGenre"]
    assert ids(first) + ids(rest["song"]) == ["tr-t10", "tr-t11", "tr-t12"]


@pytest.mark.parametrize(
    ("query", "kind", "first"),
    [
        ("emilie brule", "artist", "ar-ar2"),
        ("ÉMILIE", "artist", "ar-ar2"),
        ("deja", "album", "al-al2"),
        ("東京", "artist", "ar-ar3"),
        ("夜", "album", "al-al3"),
        ("桜", "song", "tr-t09"),
        ("tokyo", "song", None),
        ("bernou", "song", "tr-t02"),
        ("ada poetical", "song", "tr-t03"),
        ("cafe flore", "song", "tr-t04"),
    ],
)
def test_search_folds_accents_and_splits_cjk(running: Running, query, kind, first):
    result = running.json("search3", query=query)["searchResult3"].get(kind, [])
    if first is None:
        assert result == []
    else:
        assert ids(result)[0] == first


def test_search_ranks_popular_first_and_pages(running: Running):
    # Every track of al1 matches its artist's name; popularity decides the order.
    songs = running.json("search3", query="ada lovelace", songCount="2", albumCount="0")
    page2 = running.json("search3", query="ada lovelace", songCount="2", songOffset="2")
    assert ids(songs["searchResult3"]["song"]) == ["tr-t01", "tr-t02"]
    assert ids(page2["searchResult3"]["song"]) == ["tr-t03"]
    assert songs["searchResult3"].get("album", []) == []


@pytest.mark.parametrize("empty", ["", '""', "''"])
def test_empty_query_pages_artists_albums_and_songs(running: Running, empty):
    r = running.json(
        "search3", query=empty, artistCount="3", albumCount="2", songCount="4", songOffset="8"
    )["searchResult3"]
    assert len(r["artist"]) == 3 and len(r["album"]) == 2
    assert len(r["song"]) == 4
    r2 = running.json("search2", query=empty, artistCount="10", albumCount="0", songCount="0")
    assert len(r2["searchResult2"]["artist"]) == 4


def test_scrobble_counts_plays_and_feeds_lists(running: Running):
    running.json("scrobble", id="tr-t08", submission="false")
    playing = running.json("getNowPlaying")["nowPlaying"]["entry"]
    assert "tr-t08" in ids(playing)
    for _ in range(2):
        running.json("scrobble", id="tr-t08")
    assert running.json("getSong", id="tr-t08")["song"]["playCount"] == 2
    frequent = running.json("getAlbumList2", type="frequent")["albumList2"]["album"]
    assert ids(frequent)[0] == "al-al3"
    assert ids(running.json("getAlbumList2", type="recent")["albumList2"]["album"])[0] == "al-al3"


def test_index_is_reused_until_the_published_index_changes(running: Running):
    archive = running.released.archive
    assert build_index(archive)["rebuilt"] is False
    assert build_index(archive, force=True)["rebuilt"] is True


def test_hot_prefix_answers_equal_the_live_query(tmp_path):
    rel = build_released(tmp_path / "archive")
    build_library(rel.archive)
    # hot_min=1 precomputes every 2-3 character prefix of this small library.
    build_search(rel.archive, library_path(rel.archive), show_progress=False, hot_min=1)
    cached = Searcher(rel.archive)
    live = Searcher(rel.archive, hot=False)
    # "de" starts Déjà Vu (t06, and the album of t04-t06) and is the "de" of Café de Flore.
    assert sorted(cached.hot["song"]["de"]) == ["t04", "t05", "t06"]
    checked = 0
    for kind, answers in cached.hot.items():
        for prefix in answers:
            for count, offset in ((20, 0), (2, 1)):
                assert cached.search(kind, prefix, count, offset) == live.search(
                    kind, prefix, count, offset
                ), (kind, prefix)
                checked += 1
    assert checked > 50
