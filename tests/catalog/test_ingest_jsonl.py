"""JSONL ingest: validation reasons, normalisation, idempotency, newer-wins merge, compression."""

from __future__ import annotations

import json

import pytest

from musark.catalog import jsonl
from tests.catalog.conftest import rows, snapshot
from tests.catalog.dumps import track, write_jsonl


def _album(**over):
    al = track()["album"]
    al.update(over)
    return al


BAD_RECORDS = {
    "invalid_utf8": b'{"id": "trk0002", "name": "caf\xe9 latin-1"}',
    "invalid_json": '{"id": "trk0002", "name": ',
    "missing_field": track(2, artists=[]),
    "invalid_id": track(2, id="bad id/../x"),
    "invalid_isrc": track(2, external_ids={"isrc": "US-AB-12"}),
    "invalid_date": track(2, album=_album(release_date="2019-02-30")),
    "invalid_duration": track(2, duration_ms=0),
    "invalid_popularity": track(2, popularity=101),
    "invalid_number": track(2, track_number=-1),
    "invalid_timestamp": track(2, fetched_at="yesterday"),
}


@pytest.mark.parametrize("reason", sorted(BAD_RECORDS))
def test_a_bad_line_goes_to_rejects_with_its_line_number_and_reason(
    tmp_path, archive, run_ingest, reason
):
    dump = write_jsonl(tmp_path / "d.jsonl", [track(1), BAD_RECORDS[reason], track(3)])
    result = run_ingest(dump)
    assert (result["ingested"], result["rejected"]) == (2, 1)
    assert rows(archive, "SELECT source, locator, reason FROM rejects") == [
        (str(dump), "2", reason)
    ]
    assert rows(archive, "SELECT id FROM tracks ORDER BY id") == [("trk0001",), ("trk0003",)]


def test_missing_required_fields_each_reject(tmp_path, archive, run_ingest):
    no_album_name = track(4)
    del no_album_name["album"]["name"]
    no_artist_id = track(5, artists=[{"name": "Nameless"}])
    dump = write_jsonl(
        tmp_path / "d.jsonl",
        [track(1, id=None), track(2, name=""), track(3, duration_ms=None), no_album_name,
         no_artist_id, '[1, 2]'],
    )  # fmt: skip
    run_ingest(dump)
    assert rows(archive, "SELECT locator, reason FROM rejects ORDER BY locator") == [
        ("1", "missing_field"), ("2", "missing_field"), ("3", "missing_field"),
        ("4", "missing_field"), ("5", "missing_field"), ("6", "invalid_json"),
    ]  # fmt: skip


def test_isrcs_are_normalised_and_dates_keep_their_precision(tmp_path, archive, run_ingest):
    dump = write_jsonl(
        tmp_path / "d.jsonl",
        [
            track(1, external_ids={"isrc": "us-abc-19-00001"}),
            track(2, external_ids={"isrc": " USABC1900002 "}, album=_album(id="y", release_date="1999", release_date_precision="year")),
            track(3, external_ids={}, album=_album(id="m", release_date="2001-07", release_date_precision="month")),
            track(4, album=_album(id="u", release_date="0000", release_date_precision="year")),
        ],
    )  # fmt: skip
    assert run_ingest(dump)["rejected"] == 0
    assert rows(archive, "SELECT id, isrc FROM tracks ORDER BY id") == [
        ("trk0001", "USABC1900001"), ("trk0002", "USABC1900002"), ("trk0003", None),
        ("trk0004", "USABC1900004"),
    ]  # fmt: skip
    assert rows(archive, "SELECT id, release_date, release_date_precision FROM albums ORDER BY id") == [
        ("alb0001", "2019-02-03", "day"), ("m", "2001-07", "month"), ("u", None, None),
        ("y", "1999", "year"),
    ]  # fmt: skip


def test_tracks_albums_artists_and_images_are_split_into_tables(tmp_path, archive, run_ingest):
    duet = track(2, artists=[{"id": "art0002", "name": "Bo 보"}, {"id": "art0001", "name": "Ann Ångström"}],
                 streams=12345, explicit=True)  # fmt: skip
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [track(1), duet]))
    assert rows(archive, "SELECT * FROM track_artists ORDER BY ALL") == [
        ("trk0001", "art0001", 0), ("trk0002", "art0001", 1), ("trk0002", "art0002", 0),
    ]  # fmt: skip
    assert rows(archive, "SELECT id, name FROM artists ORDER BY id") == [
        ("art0001", "Ann Ångström"), ("art0002", "Bo 보"),
    ]  # fmt: skip
    assert rows(archive, "SELECT label, copyright_c, copyright_p, upc, total_tracks FROM albums") == [
        ("Northern Lights Records", "© 2019 Northern Lights Records",
         "℗ 2019 Northern Lights Records", "000000000017", 12),
    ]  # fmt: skip
    assert rows(archive, "SELECT * FROM album_images") == [
        ("alb0001", 640, 640, "https://images.example.org/a/640")
    ]
    assert rows(archive, "SELECT streams, explicit FROM tracks WHERE id = 'trk0002'") == [
        (12345, True)
    ]


def test_ingesting_the_same_dump_twice_changes_nothing(tmp_path, archive, run_ingest):
    dump = write_jsonl(tmp_path / "d.jsonl", [track(i) for i in range(1, 20)] + ["not json"])
    first = run_ingest(dump)
    before = snapshot(archive)
    second = run_ingest(dump)
    assert snapshot(archive) == before
    assert first["merge"]["tracks"]["added"] == 19
    assert second["merge"]["tracks"] == {"added": 0, "updated": 0, "unchanged": 19, "kept_newer": 0}
    assert second["merge"]["new_rejects"] == 0
    assert len(before["rejects"]) == 1


def test_a_newer_fetched_at_replaces_the_row_and_an_older_one_does_not(
    tmp_path, archive, run_ingest
):
    run_ingest(write_jsonl(tmp_path / "a.jsonl", [track(1), track(2)]))
    newer = track(1, name="Renamed", popularity=77, fetched_at="2025-08-01T00:00:00Z",
                  artists=[{"id": "art0009", "name": "New Artist"}])  # fmt: skip
    older = track(2, name="Stale", fetched_at="2024-01-01T00:00:00Z")
    result = run_ingest(write_jsonl(tmp_path / "b.jsonl", [newer, older]))
    assert result["merge"]["tracks"] == {"added": 0, "updated": 1, "unchanged": 0, "kept_newer": 1}
    assert rows(archive, "SELECT id, name, popularity FROM tracks ORDER BY id") == [
        ("trk0001", "Renamed", 77), ("trk0002", "Song 2 — Café 東京", 30),
    ]  # fmt: skip
    assert rows(archive, "SELECT * FROM track_artists ORDER BY ALL") == [
        ("trk0001", "art0009", 0), ("trk0002", "art0001", 0),
    ]  # fmt: skip
    assert rows(archive, "SELECT count(*) FROM tracks") == [(2,)]


def test_within_one_dump_the_newest_duplicate_wins(tmp_path, archive, run_ingest):
    dump = write_jsonl(
        tmp_path / "d.jsonl",
        [track(1, name="new", fetched_at="2025-09-01T00:00:00Z"), track(1, name="old")],
    )
    run_ingest(dump)
    assert rows(archive, "SELECT name FROM tracks") == [("new",)]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst", ".jsonl.gz", ".ndjson"])
def test_plain_and_compressed_dumps_read_the_same(tmp_path, archive, run_ingest, suffix):
    dump = write_jsonl(tmp_path / f"d{suffix}", [track(i) for i in range(1, 6)] + [b"\xff"])
    result = run_ingest(dump)
    assert result["sources"][0]["format"] == "jsonl"
    assert (result["ingested"], result["rejected"]) == (5, 1)


def test_cli_ingest_prints_counts_as_json(tmp_path, archive, cli):
    dump = write_jsonl(tmp_path / "d.jsonl", [track(1), track(2, duration_ms=-5)])
    out = cli.json("ingest", dump, "--archive", archive.root)
    assert (out["ingested"], out["rejected"]) == (1, 1)
    text = cli("ingest", dump, "--archive", archive.root)
    assert "ingested 1 rows, rejected 1" in text
    json.dumps(out)


def test_invalid_utf8_is_kept_readable_in_rejects(tmp_path, archive, run_ingest):
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [b'{"id": "x1", "name": "caf\xe9"}']))
    [(raw,)] = rows(archive, "SELECT raw FROM rejects")
    # invalid bytes shown as '?', the rest as it was
    assert raw.startswith('{"id": "x1", "name": "caf?')


def test_a_failing_source_leaves_the_catalogue_untouched(tmp_path, archive, run_ingest):
    good = write_jsonl(tmp_path / "good.jsonl", [track(1)])
    run_ingest(good)
    before = snapshot(archive)
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(Exception):  # noqa: B017 - any error: what matters is nothing changed
        run_ingest(write_jsonl(tmp_path / "more.jsonl", [track(2)]), broken)
    assert snapshot(archive) == before


def test_counts_and_line_numbers_stay_exact_across_many_small_chunks(tmp_path, archive, run_ingest):
    cfg = archive.config_path
    cfg.write_text(cfg.read_text().replace("chunk_rows = 1000000", "chunk_rows = 2"))
    records = [track(n) for n in range(1, 8)]
    records[2] = BAD_RECORDS["invalid_isrc"]  # line 3: second chunk
    records[5] = BAD_RECORDS["invalid_json"]  # line 6: third chunk
    dump = write_jsonl(tmp_path / "d.jsonl", records)
    result = run_ingest(dump)
    assert (result["ingested"], result["rejected"]) == (5, 2)
    assert result["sources"][0]["ingested"] == 5
    assert rows(archive, "SELECT locator, reason FROM rejects ORDER BY locator") == [
        ("3", "invalid_isrc"),
        ("6", "invalid_json"),
    ]
    assert rows(archive, "SELECT count(*) FROM tracks") == [(5,)]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])  # memory-mapped / streamed
def test_line_numbers_stay_exact_when_the_file_is_read_in_blocks_shorter_than_a_line(
    tmp_path, archive, run_ingest, monkeypatch, suffix
):
    # blocks of 100 bytes: most hold no newline at all, lines span several blocks, and the
    # rejected lines' numbers and raw text are still found exactly (their ordinals read from
    # the stage two at a time)
    monkeypatch.setattr(jsonl, "LINE_SCAN_BYTES", 100)
    monkeypatch.setattr(jsonl, "REJECTED_BATCH", 2)
    records = [track(n) for n in range(1, 31)]
    records[0] = BAD_RECORDS["invalid_isrc"]
    records[13] = ""
    records[14] = "   "
    records[22] = BAD_RECORDS["invalid_duration"]
    records[29] = BAD_RECORDS["invalid_json"]
    dump = write_jsonl(tmp_path / f"d{suffix}", records)
    result = run_ingest(dump)
    assert (result["ingested"], result["rejected"]) == (25, 4)
    assert rows(archive, "SELECT locator, reason, raw FROM rejects ORDER BY locator::INT") == [
        ("1", "invalid_isrc", json.dumps(BAD_RECORDS["invalid_isrc"], ensure_ascii=False)),
        ("15", "invalid_json", "   "),
        ("23", "invalid_duration", json.dumps(BAD_RECORDS["invalid_duration"], ensure_ascii=False)),
        ("30", "invalid_json", BAD_RECORDS["invalid_json"]),
    ]


def test_blank_lines_are_skipped_and_whitespace_only_lines_rejected(tmp_path, archive, run_ingest):
    dump = write_jsonl(tmp_path / "d.jsonl", [track(1), "", "   ", track(3), "\r", "\t", track(7)])
    result = run_ingest(dump)
    assert (result["ingested"], result["rejected"]) == (3, 2)
    assert rows(archive, "SELECT locator, reason FROM rejects ORDER BY locator") == [
        ("3", "invalid_json"), ("6", "invalid_json"),
    ]  # fmt: skip


def test_lines_duckdbs_reader_would_split_otherwise_keep_exact_line_numbers(
    tmp_path, archive, run_ingest
):
    # DuckDB's JSON reader yields one row for these three control-character lines; the line
    # count then disagrees with its rows and the dump is read again block by block
    records = [track(1), "\f", "\x00", "\v", track(5), BAD_RECORDS["invalid_isrc"], track(7)]
    dump = write_jsonl(tmp_path / "d.jsonl", records)
    result = run_ingest(dump)
    assert (result["ingested"], result["rejected"]) == (3, 4)
    assert rows(archive, "SELECT locator, reason FROM rejects ORDER BY locator") == [
        ("2", "invalid_json"), ("3", "invalid_json"), ("4", "invalid_json"),
        ("6", "invalid_isrc"),
    ]  # fmt: skip
    assert rows(archive, "SELECT id FROM tracks ORDER BY id") == [
        ("trk0001",), ("trk0005",), ("trk0007",),
    ]  # fmt: skip
