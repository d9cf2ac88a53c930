"""`musark process` from the command line: one batch at a time, JSON report, sources via track_audio."""

from __future__ import annotations

from musark.catalog.schema import connect
from tests.media.fixtures import Track, make_catalog, track_files


def test_batch_option_processes_only_that_batch_then_the_rest(archive, cli, tmp_path):
    make_catalog(
        archive,
        [Track("a1", "flac", 2.0), Track("b1", "ogg", 2.0, tier="opus75")],
        tmp_path / "src",
    )
    first = cli.json(
        "process",
        "--archive",
        archive.root,
        "--source",
        tmp_path / "src",
        "--batch",
        "opus75__0001",
        "--workers",
        "1",
    )
    assert first["planned"] == 1 and first["done"] == 1
    status = {r["track_id"]: r["status"] for r in track_files(archive)}
    assert status == {"a1": "planned", "b1": "done"}
    rest = cli.json(
        "process", "--archive", archive.root, "--source", tmp_path / "src", "--workers", "1"
    )
    assert rest["planned"] == 1 and rest["done"] == 1 and rest["patch_bytes"] > 0


def test_sources_found_through_track_audio_without_source_option(archive, cli, tmp_path):
    sources = make_catalog(archive, [Track("c1", "mp3", 2.0)], tmp_path / "elsewhere")
    con = connect(archive.catalog_db)
    con.execute("INSERT INTO track_audio VALUES ('c1', ?, NULL, NULL)", [str(sources["c1"])])
    con.close()
    report = cli.json("process", "--archive", archive.root, "--workers", "1")
    assert report["done"] == 1
    (row,) = track_files(archive)
    assert row["ext"] == "mp3" and row["status"] == "done"
