"""Point lookups by id and ISRC (what locate/serve-style callers use on the working catalogue)."""

from __future__ import annotations

import json

import duckdb
import pytest

from musark.catalog.lookup import COLUMNS, TrackLookup
from tests.catalog.conftest import rows
from tests.catalog.dumps import track, write_jsonl


def test_lookup_by_id_and_by_isrc(tmp_path, archive, run_ingest):
    other = dict(track()["album"], id="alb0002")
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [
        track(1), track(2), track(3, external_ids={"isrc": "USABC1900001"}, album=other),
    ]))  # fmt: skip
    with TrackLookup(archive) as lk:
        assert lk.by_id("trk0002")["name"] == "Song 2 — Café 東京"
        assert lk.by_id("nope") is None
        assert [r["id"] for r in lk.by_isrc("us-abc-19-00001")] == ["trk0001", "trk0003"]
        assert lk.by_isrc("USABC1999999") == []


def test_a_lookup_returns_the_whole_catalogue_row(tmp_path, archive, run_ingest):
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [track(1), track(2, streams=12345)]))
    expected = rows(archive, f"SELECT {', '.join(COLUMNS)} FROM tracks WHERE id = 'trk0002'")[0]
    with TrackLookup(archive) as lk:
        got = lk.by_id("trk0002")
        assert got == dict(zip(COLUMNS, expected, strict=True))
        assert got["streams"] == 12345 and got["isrc"] == "USABC1900002"
        assert lk.by_isrc("USABC1900002") == [got]


def test_an_isrc_on_many_releases_returns_every_track_in_id_order(tmp_path, archive, run_ingest):
    # more tracks than DuckDB's index_scan_max_count (2048): the lookup then scans, same answer
    shared = {"isrc": "GBXYZ0500001"}
    recs = [track(n, external_ids=shared) for n in range(2100, 0, -1)] + [track(9999)]
    run_ingest(write_jsonl(tmp_path / "d.jsonl", recs))
    with TrackLookup(archive) as lk:
        found = lk.by_isrc("GBXYZ0500001")
        assert [r["id"] for r in found] == [f"trk{n:04d}" for n in range(1, 2101)]
        assert found[:3] == [lk.by_id(f"trk{n:04d}") for n in (1, 2, 3)]
        assert [r["id"] for r in lk.by_isrc("USABC1909999")] == ["trk9999"]


@pytest.mark.parametrize(
    "written", ["USABC1900007", "usabc1900007", "US-ABC-19-00007", "US.ABC.19.00007",
                " US ABC 19 00007 ", "ISRC:USABC1900007"],
)  # fmt: skip
def test_an_isrc_is_found_however_it_is_written(tmp_path, archive, run_ingest, written):
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [track(7), track(8)]))
    with TrackLookup(archive) as lk:
        assert [r["id"] for r in lk.by_isrc(written)] == ["trk0007"]


def test_unknown_and_invalid_keys_find_nothing(tmp_path, archive, run_ingest):
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [track(1)]))
    with TrackLookup(archive) as lk:
        for key in ("trk0002", "", "trk0001'", "trk0001' OR '1'='1", "x" * 65, "trk 0001"):
            assert lk.by_id(key) is None, key
        for key in ("USABC1900002", "", "USABC190000", "USABC19000011", "1SABC1900001",
                    "USABC19O0001", "' OR 1=1 --"):  # fmt: skip
            assert lk.by_isrc(key) == [], key
        assert lk.by_id("trk0001")["id"] == "trk0001"  # the connection is still usable


def test_lookups_follow_a_later_ingest(tmp_path, archive, run_ingest):
    run_ingest(write_jsonl(tmp_path / "a.jsonl", [track(1), track(2)]))
    newer = track(2, name="Renamed", external_ids={"isrc": "USABC1900001"},
                  fetched_at="2025-08-01T00:00:00Z")  # fmt: skip
    run_ingest(write_jsonl(tmp_path / "b.jsonl", [newer, track(3)]))
    with TrackLookup(archive) as lk:
        assert lk.by_id("trk0002")["name"] == "Renamed"
        assert [r["id"] for r in lk.by_isrc("USABC1900001")] == ["trk0001", "trk0002"]
        assert lk.by_isrc("USABC1900002") == []
        assert lk.by_id("trk0003")["isrc"] == "USABC1900003"


def test_warming_up_changes_no_answer(tmp_path, archive, run_ingest):
    shared = {"isrc": "USABC1900001"}
    recs = [track(n, external_ids=shared if n % 3 == 0 else {}) for n in range(1, 40)]
    run_ingest(write_jsonl(tmp_path / "d.jsonl", recs))
    keys = [f"trk{n:04d}" for n in range(0, 42)]
    with TrackLookup(archive) as lk:
        before = [lk.by_id(k) for k in keys], lk.by_isrc("USABC1900001")
        lk.warm()
        assert ([lk.by_id(k) for k in keys], lk.by_isrc("USABC1900001")) == before
        assert len(before[1]) == 13 and sum(r is not None for r in before[0]) == 39


def test_warming_up_a_catalogue_without_isrcs(tmp_path, archive, run_ingest):
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [track(1, external_ids={})]))
    with TrackLookup(archive) as lk:
        lk.warm()
        assert lk.by_id("trk0001")["isrc"] is None
        assert lk.by_isrc("USABC1900001") == []


def _scans(profile: dict) -> list[str]:
    """The scan type of every table scan in a DuckDB JSON profile."""
    ops, found = list(profile["operator"]), []
    while ops:
        op = ops.pop()
        ops.extend(op.get("children", []))
        if op["type"] == "TABLE_SCAN":
            found.append(op["extra_info"]["Type"])
    return found


def test_every_lookup_is_answered_by_an_art_index(tmp_path, archive, run_ingest):
    recs = [track(n, external_ids={"isrc": "USABC1900001"}) for n in range(1, 4)]
    recs += [track(n, external_ids={"isrc": "USABC1900099"}) for n in range(10, 40)]
    run_ingest(write_jsonl(tmp_path / "d.jsonl", recs))
    with TrackLookup(archive) as lk:
        lk.con.execute("SET enable_profiling = 'no_output'")
        for lookup, found in ((lambda: [lk.by_id("trk0002")], 1),
                              (lambda: lk.by_isrc("USABC1900001"), 3),
                              (lambda: lk.by_isrc("USABC1900099"), 30)):  # fmt: skip
            assert len(lookup()) == found
            assert _scans(json.loads(lk.con.get_profiling_information())) == ["Index Scan"]


def test_the_lookup_connection_is_private(tmp_path, archive, run_ingest):
    run_ingest(write_jsonl(tmp_path / "d.jsonl", [track(1)]))
    other = duckdb.connect(str(archive.catalog_db), read_only=True)
    try:
        settings = "SELECT current_setting('threads'), current_setting('disabled_optimizers')"
        before = other.execute(settings).fetchall()
        with TrackLookup(archive) as lk:
            assert lk.by_id("trk0001")["id"] == "trk0001"
            assert other.execute(settings).fetchall() == before
        assert other.execute("SELECT count(*) FROM tracks").fetchall() == [(1,)]
    finally:
        other.close()


def test_a_lookup_needs_a_catalogue(archive):
    with pytest.raises(FileNotFoundError, match="no catalogue here"):
        TrackLookup(archive)
