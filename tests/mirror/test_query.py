"""Index queries: exact id, ISRC in any spelling, UPC in any length, free text 'artist - title'."""

from __future__ import annotations

from musark.archive import Archive
from musark.fsio import TMP_PREFIX
from musark.index.open import open_index
from musark.index.query import find_tracks, normalize_isrc, upc_variants
from musark.index.textsearch import TextSearch, fts_query
from tests.mirror.released import UNARCHIVED_ISRC, Released


def test_isrc_is_normalised_before_lookup():
    assert normalize_isrc(" qz-es7-26-00001 ") == "QZES72600001"
    assert normalize_isrc("ISRC:QZES72600001") == "QZES72600001"
    assert normalize_isrc("not an isrc") is None


def test_upc_matches_with_or_without_leading_zeros():
    assert {"800000000010", "0800000000010", "00800000000010"} <= set(upc_variants("0800000000010"))
    assert upc_variants("12ab") is None


def test_text_query_splits_artist_and_title():
    assert fts_query("Artist A0 - Song") == 'artist : ("artist" "a0") AND title : ("song"*)'
    assert fts_query('"; DROP TABLE') == '"drop" "table"*'
    assert fts_query("  - ") is None


def test_each_query_kind_finds_its_tracks(released: Released, mirror: Archive):
    con = open_index(mirror)  # decompresses the published .zst on first use
    assert mirror.index_db.exists()
    search = TextSearch(mirror)
    t = released.tracks[-3]
    assert find_tracks(con, t.id, search)[1][0].track_id == t.id
    kind, hits = find_tracks(con, t.isrc.lower(), search)
    assert (kind, [h.track_id for h in hits]) == ("isrc", [t.id])
    kind, hits = find_tracks(con, f"0{t.upc}", search)  # EAN-13 spelling of a UPC-A
    album = sorted(x.id for x in released.tracks if x.album_id == t.album_id)
    assert kind == "upc" and sorted(h.track_id for h in hits) == album
    kind, hits = find_tracks(con, f"{t.artist.lower()} - {t.title}", search)
    assert kind == "text" and hits[0].track_id == t.id
    assert find_tracks(con, "nobody - nothing", search)[1] == []


def test_a_catalogued_track_without_file_is_found_but_not_archived(mirror: Archive):
    con = open_index(mirror)
    kind, hits = find_tracks(con, UNARCHIVED_ISRC)
    assert kind == "isrc" and len(hits) == 1
    assert not hits[0].archived and hits[0].file_magnet is None


def test_text_table_is_rebuilt_when_the_index_changes(mirror: Archive):
    search = TextSearch(mirror)
    path = search.build()
    first = path.stat().st_mtime_ns
    assert search.build().stat().st_mtime_ns == first  # unchanged index: reused
    mirror.index_db.touch()
    stale = path.parent / f"{TMP_PREFIX}killed-build.sqlite3"  # left by a build killed midway
    stale.write_bytes(b"partial")
    assert search.build().stat().st_mtime_ns != first
    assert not stale.exists()
