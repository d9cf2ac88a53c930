"""Bad source audio goes to quarantine with its reason; the other tracks are processed normally."""

from __future__ import annotations

import pytest

from musark.archive import Archive, init_archive
from musark.media.process import process_archive
from musark.run.ledger import Ledger
from tests.media.fixtures import Track, make_catalog, track_files

CASES = {
    # track id: (how its source is spoiled, expected start of the recorded reason)
    "bad-corrupt": ("corrupt", "corrupt:"),
    "bad-truncated": ("truncated", "truncated"),
    "bad-zero": ("zero", "zero-length file"),
    "bad-text": ("text", "not audio:"),
    "bad-duration": ("duration", "duration mismatch:"),
    "bad-missing": ("missing", "missing source:"),
    "bad-flac-truncated": ("truncated", "truncated"),
    "bad-mp3-truncated": ("truncated", "truncated"),
}


def _spoil(path, how):
    data = path.read_bytes()
    if how == "corrupt":
        mid = len(data) // 2
        path.write_bytes(data[:mid] + bytes(range(256)) * 16 + data[mid + 4096 :])
    elif how == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif how == "zero":
        path.write_bytes(b"")
    elif how == "text":
        path.write_bytes(b"this is a README, not a song\n" * 50)
    elif how == "missing":
        path.unlink()


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory):
    root = tmp_path_factory.mktemp("quarantine")
    arc = Archive(root / "archive")
    init_archive(arc)
    tracks = [Track("good", "ogg", 4.0)]
    for track_id, (how, _) in CASES.items():
        ext = "flac" if "flac" in track_id else "mp3" if "mp3" in track_id else "ogg"
        duration = 20000 if how == "duration" else None
        tracks.append(Track(track_id, ext, 4.0, duration_ms=duration))
    sources = make_catalog(arc, tracks, root / "src")
    for track_id, (how, _) in CASES.items():
        _spoil(sources[track_id], how)
    report = process_archive(arc, source_dir=root / "src", workers=2, show_progress=False)
    return arc, report, {r["track_id"]: r for r in track_files(arc)}


@pytest.mark.parametrize("track_id", sorted(CASES))
def test_bad_input_is_quarantined_with_its_reason(quarantined, track_id):
    arc, _, rows = quarantined
    how, reason = CASES[track_id]
    row = rows[track_id]
    assert row["status"] == "quarantined"
    assert row["error"].startswith(reason), row["error"]
    assert not list(arc.files_dir.rglob(f"{track_id}.*"))
    kept = list((arc.quarantine_dir / row["batch"]).glob(f"{track_id}.*"))
    assert len(kept) == (0 if how == "missing" else 1)
    ledger = Ledger(arc.ledger_db, "process")
    try:
        entry = ledger.get(track_id)
    finally:
        ledger.close()
    assert entry["status"] == "quarantined" and entry["reason"] == row["error"]


def test_missing_source_names_where_musark_looked(quarantined):
    _, _, rows = quarantined
    assert "no bad-missing.<ext> in" in rows["bad-missing"]["error"]


def test_good_track_is_unaffected_and_counts_are_reported(quarantined):
    _, report, rows = quarantined
    assert rows["good"]["status"] == "done"
    assert report.done == 1 and report.quarantined == len(CASES) and report.failed == 0
    assert sum(report.as_dict()["quarantine_reasons"].values()) == len(CASES)
