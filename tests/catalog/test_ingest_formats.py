"""SQLite (rowid layout), CSV and Parquet dumps, and format auto-detection."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from musark.catalog.ingest import IngestError, detect_format
from tests.catalog.conftest import rows, snapshot
from tests.catalog.dumps import flat_row, track, write_jsonl, write_parquet, write_sqlite


def _records():
    duet = track(
        3, artists=[{"id": "art0001", "name": "Ann Ångström"}, {"id": "art0002", "name": "Bo 보"}]
    )
    return [track(1), track(2), duet, track(4)]


def test_sqlite_dump_is_joined_through_rowids(tmp_path, archive, run_ingest):
    db = write_sqlite(tmp_path / "dump.sqlite3", _records(), genres={"art0002": ["k-pop", "jazz"]})
    result = run_ingest(db)
    assert result["sources"][0]["format"] == "sqlite"
    assert (result["ingested"], result["rejected"]) == (4, 0)
    assert rows(archive, "SELECT id, album_id, isrc, duration_ms FROM tracks ORDER BY id")[2] == (
        "trk0003", "alb0001", "USABC1900003", 200003,
    )  # fmt: skip
    assert rows(archive, "SELECT * FROM track_artists WHERE track_id = 'trk0003' ORDER BY position") == [
        ("trk0003", "art0001", 0), ("trk0003", "art0002", 1),
    ]  # fmt: skip
    assert rows(archive, "SELECT id, followers, popularity FROM artists ORDER BY id") == [
        ("art0001", 1234, 55), ("art0002", 1234, 55),
    ]  # fmt: skip
    assert rows(archive, "SELECT * FROM artist_genres ORDER BY ALL") == [
        ("art0002", "jazz"), ("art0002", "k-pop"),
    ]  # fmt: skip
    assert rows(archive, "SELECT label, upc, release_date_precision FROM albums") == [
        ("Northern Lights Records", "000000000017", "day"),
    ]
    assert rows(archive, "SELECT count(*) FROM album_images") == [(1,)]
    # epoch-seconds fetched_at becomes a UTC timestamp
    assert str(rows(archive, "SELECT max(fetched_at) FROM tracks")[0][0]) == "2025-07-01 00:00:00"


def test_sqlite_bad_rows_are_rejected_by_rowid(tmp_path, archive, run_ingest):
    db = write_sqlite(tmp_path / "dump.sqlite3", _records())
    con = sqlite3.connect(db)
    con.execute("UPDATE tracks SET name = CAST(x'41ff42' AS TEXT) WHERE rowid = 2")
    con.execute("UPDATE tracks SET external_id_isrc = 'nope' WHERE rowid = 3")
    con.execute("UPDATE tracks SET album_rowid = 999 WHERE rowid = 4")
    con.commit()
    con.close()
    run_ingest(db)
    assert rows(archive, "SELECT locator, reason FROM rejects ORDER BY locator") == [
        ("2", "invalid_utf8"), ("3", "invalid_isrc"), ("4", "missing_field"),
    ]  # fmt: skip
    before = snapshot(archive)
    run_ingest(db)
    assert snapshot(archive) == before


def test_a_file_without_the_dump_tables_is_refused(tmp_path, run_ingest):
    db = tmp_path / "other.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(ValueError, match="missing tables"):
        run_ingest(db)


def test_csv_rows_and_unparsable_lines(tmp_path, archive, run_ingest):
    path = tmp_path / "dump.csv"
    flat = [flat_row(r) for r in _records()]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(flat[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(flat)
    with open(path, "ab") as fh:
        fh.write(b"trk0009,Too,many,columns" + b",x" * 40 + b"\n")
        fh.write(b"trk0010,caf\xe9" + b"," * 25 + b"\n")
    flat[1]["popularity"] = 555
    result = run_ingest(path)
    assert result["sources"][0]["format"] == "csv"
    assert result["ingested"] == 4
    assert rows(archive, "SELECT reason FROM rejects ORDER BY locator") == [
        ("invalid_csv",), ("invalid_utf8",),
    ]  # fmt: skip
    assert rows(archive, "SELECT artist_id FROM track_artists WHERE track_id = 'trk0003' ORDER BY position") == [
        ("art0001",), ("art0002",),
    ]  # fmt: skip
    assert rows(archive, "SELECT count(*) FROM album_images") == [(1,)]


def test_parquet_rows_with_typed_columns(tmp_path, archive, run_ingest):
    recs = _records()
    recs[3]["popularity"] = 300
    path = write_parquet(tmp_path / "dump.parquet", recs)
    result = run_ingest(path)
    assert (result["ingested"], result["rejected"]) == (3, 1)
    assert rows(archive, "SELECT locator, reason FROM rejects") == [("4", "invalid_popularity")]
    assert rows(archive, "SELECT id, explicit, popularity FROM tracks ORDER BY id")[0] == (
        "trk0001", False, 30,
    )  # fmt: skip


def test_every_format_yields_the_same_catalogue(tmp_path, run_ingest, archive):
    from musark.archive import Archive, init_archive
    from musark.catalog.ingest import ingest

    recs = _records()
    sources = {
        "jsonl": write_jsonl(tmp_path / "d.jsonl", recs),
        "sqlite": write_sqlite(tmp_path / "d.sqlite", recs),
        "parquet": write_parquet(tmp_path / "d.parquet", recs),
    }
    seen = {}
    for fmt, path in sources.items():
        arc = Archive(tmp_path / f"arc-{fmt}")
        init_archive(arc)
        ingest(arc, [path], show_progress=False)
        seen[fmt] = rows(
            arc,
            "SELECT id, name, album_id, track_number, duration_ms, isrc, popularity FROM tracks ORDER BY id",
        )
    assert seen["jsonl"] == seen["sqlite"] == seen["parquet"]


_PRIMARY_MISMATCHES = """
    SELECT t.id, t.artist_id, ta.artist_id FROM tracks t
    FULL JOIN (SELECT * FROM track_artists WHERE position = 0) ta ON ta.track_id = t.id
    WHERE t.artist_id IS DISTINCT FROM ta.artist_id"""


def test_every_format_records_the_primary_artist_on_the_track(tmp_path):
    from musark.archive import Archive, init_archive
    from musark.catalog.ingest import ingest

    recs = _records()
    # a newer record of the duet with its artists swapped: the primary artist follows it
    newer = track(3, artists=[{"id": "art0002", "name": "Bo 보"}, {"id": "art0001", "name": "A"}])
    newer["fetched_at"] = "2030-01-01T00:00:00Z"
    for fmt, path in {
        "jsonl": write_jsonl(tmp_path / "d.jsonl", recs),
        "sqlite": write_sqlite(tmp_path / "d.sqlite", recs),
        "parquet": write_parquet(tmp_path / "d.parquet", recs),
    }.items():
        arc = Archive(tmp_path / f"arc-{fmt}")
        init_archive(arc)
        ingest(arc, [path], show_progress=False)
        assert rows(arc, _PRIMARY_MISMATCHES) == [], fmt
        assert rows(arc, "SELECT artist_id FROM tracks WHERE id = 'trk0003'") == [("art0001",)]
        ingest(arc, [write_jsonl(tmp_path / f"newer-{fmt}.jsonl", [newer])], show_progress=False)
        assert rows(arc, _PRIMARY_MISMATCHES) == [], fmt
        assert rows(arc, "SELECT artist_id FROM tracks WHERE id = 'trk0003'") == [("art0002",)]


def test_a_catalogue_from_before_tracks_artist_id_gets_it_filled_when_opened(tmp_path, archive):
    import duckdb

    from musark.catalog.ingest import ingest
    from musark.catalog.schema import connect

    ingest(archive, [write_jsonl(tmp_path / "d.jsonl", _records())], show_progress=False)
    before = rows(archive, "SELECT id, artist_id FROM tracks ORDER BY id")
    index = rows(archive, "SELECT sql FROM duckdb_indexes() WHERE table_name = 'tracks'")
    assert index
    # the schema before the column, with the lookup index ingest builds
    con = duckdb.connect(str(archive.catalog_db))
    con.execute("DROP INDEX tracks_id_idx")
    con.execute("ALTER TABLE tracks DROP COLUMN artist_id")
    con.execute(index[0][0])
    con.close()
    connect(archive.catalog_db).close()
    assert rows(archive, "SELECT id, artist_id FROM tracks ORDER BY id") == before
    assert rows(archive, "SELECT sql FROM duckdb_indexes() WHERE table_name = 'tracks'") == index
    assert rows(archive, _PRIMARY_MISMATCHES) == []


def test_format_detection(tmp_path):
    assert detect_format(write_jsonl(tmp_path / "a.jsonl.zst", [track()])) == "jsonl"
    assert detect_format(write_sqlite(tmp_path / "a.db", [track()])) == "sqlite"
    assert detect_format(write_parquet(tmp_path / "a.parquet", [track()])) == "parquet"
    assert detect_format(tmp_path) == "folder"
    noext = tmp_path / "noext"
    noext.write_bytes((tmp_path / "a.parquet").read_bytes())
    assert detect_format(noext) == "parquet"
    with pytest.raises(IngestError, match="no such file"):
        detect_format(tmp_path / "missing.jsonl")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    with pytest.raises(IngestError, match="cannot tell"):
        detect_format(tmp_path / "x.bin")
