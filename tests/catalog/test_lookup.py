"""Point lookups by id and ISRC (what locate/serve-style callers use on the working catalogue)."""

from __future__ import annotations

from musark.catalog.lookup import TrackLookup
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
