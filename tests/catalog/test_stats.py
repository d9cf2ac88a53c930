"""`musark stats`: counts and histograms of a known catalogue."""

from __future__ import annotations

from tests.catalog.dumps import track, write_jsonl


def test_stats_json_describes_the_catalogue(tmp_path, archive, cli):
    album_b = dict(track()["album"], id="alb0002", label="Other Label")
    recs = [
        track(1, popularity=0),
        track(2, popularity=0, external_ids={"isrc": "USABC1900001"}, album=album_b),
        track(3, popularity=55, streams=10),
        track(4, popularity=7),
        track(5, duration_ms=0),
    ]
    cli("ingest", write_jsonl(tmp_path / "d.jsonl", recs), "--archive", archive.root)
    s = cli.json("stats", "--archive", archive.root)
    assert (s["tracks"], s["albums"], s["artists"], s["distinct_isrcs"]) == (4, 2, 1, 3)
    assert s["tracks_per_isrc"] == {"1": 2, "2": 1}
    assert s["popularity_histogram"]["0"] == 2
    assert s["popularity_histogram"]["1-9"] == 1
    assert s["popularity_histogram"]["50-59"] == 1
    assert s["tracks_with_streams"] == 1
    assert s["labels"] == {
        "count": 2,
        "top": [
            {"label": "Northern Lights Records", "albums": 1},
            {"label": "Other Label", "albums": 1},
        ],
    }
    assert s["rejects"] == {"total": 1, "by_reason": {"invalid_duration": 1}}


def test_stats_tables_and_a_missing_catalogue(tmp_path, archive, cli):
    result = cli.runner.invoke(
        __import__("musark.cli", fromlist=["app"]).app,
        ["stats", "--archive", str(tmp_path / "none")],
    )
    assert result.exit_code != 0
    cli("ingest", write_jsonl(tmp_path / "d.jsonl", [track(1)]), "--archive", archive.root)
    text = cli("stats", "--archive", archive.root)
    assert "tracks per ISRC" in text and "popularity" in text and "Northern Lights Records" in text
