"""Folder ingest: tagged audio becomes catalogue rows, with placeholders, rejects and stable ids."""

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest

from musark.media.synth import write_audio
from tests.catalog.conftest import rows, snapshot


def _tag(path: Path, **tags: str) -> None:
    f = mutagen.File(path, easy=True)
    if f.tags is None:
        f.add_tags()
    for k, v in tags.items():
        f[k] = v
    f.save()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A small collection: a tagged album, a multi-artist track, untagged files, a broken file."""
    root = tmp_path / "music"
    album = root / "Ann Ångström" / "Ærø Nights"
    album.mkdir(parents=True)
    for i in range(3):
        p = write_audio(album / f"{i + 1:02d}.ogg", 0.5, seed=i)
        _tag(p, title=f"Nacht {i + 1} 夜", artist="Ann Ångström", album="Ærø Nights",
             albumartist="Ann Ångström", tracknumber=f"{i + 1}/3", discnumber="1",
             date="2019-02-03", isrc=f"us-abc-19-0000{i + 1}", genre="Jazz")  # fmt: skip
    duet = write_audio(album / "04.ogg", 0.5, seed=4)
    f = mutagen.File(duet, easy=True)
    f["title"], f["album"], f["albumartist"] = "Duet", "Ærø Nights", "Ann Ångström"
    f["artist"] = ["Ann Ångström", "Bo 보"]
    f["tracknumber"] = "4"
    f.save()
    loose = root / "loose"
    loose.mkdir()
    write_audio(loose / "untitled demo.ogg", 0.5, seed=7)  # no tags at all
    write_audio(loose / "voice memo.opus", 0.5, seed=8)
    (loose / "broken.ogg").write_bytes(b"OggS" + b"\x00" * 60)
    (loose / "notes.txt").write_text("not audio")
    return root


def test_tags_become_tracks_albums_and_artists(library, archive, run_ingest):
    result = run_ingest(library)
    src = result["sources"][0]
    assert src["format"] == "folder"
    assert (result["ingested"], result["rejected"]) == (6, 1)
    assert src["untagged"] == 2
    assert "2 file(s) with missing tags" in result["warnings"][0]
    tagged = rows(
        archive,
        """
        SELECT t.name, t.track_number, t.isrc, a.name, a.release_date, a.total_tracks
        FROM tracks t JOIN albums a ON a.id = t.album_id
        WHERE a.name = 'Ærø Nights' ORDER BY t.track_number""",
    )
    assert tagged == [
        ("Nacht 1 夜", 1, "USABC1900001", "Ærø Nights", "2019-02-03", 3),
        ("Nacht 2 夜", 2, "USABC1900002", "Ærø Nights", "2019-02-03", 3),
        ("Nacht 3 夜", 3, "USABC1900003", "Ærø Nights", "2019-02-03", 3),
        ("Duet", 4, None, "Ærø Nights", "2019-02-03", 3),
    ]
    assert rows(archive, "SELECT name FROM artists ORDER BY name") == [
        ("Ann Ångström",), ("Bo 보",), ("Unknown Artist",),
    ]  # fmt: skip
    assert rows(archive, """
        SELECT ar.name FROM track_artists ta JOIN tracks t ON t.id = ta.track_id
        JOIN artists ar ON ar.id = ta.artist_id WHERE t.name = 'Duet' ORDER BY position""") == [
        ("Ann Ångström",), ("Bo 보",),
    ]  # fmt: skip
    # genre tags describe the album's artists
    assert rows(
        archive,
        """
        SELECT a.name, g.genre FROM artist_genres g JOIN artists a ON a.id = g.artist_id
        ORDER BY ALL""",
    ) == [("Ann Ångström", "Jazz"), ("Bo 보", "Jazz")]
    assert all(d > 0 for (d,) in rows(archive, "SELECT duration_ms FROM tracks"))
    # popularity is unknown for a folder: NULL, never invented
    assert rows(archive, "SELECT count(*) FROM tracks WHERE popularity IS NULL") == [(6,)]


def test_untagged_files_get_placeholders_like_a_music_server(library, archive, run_ingest):
    run_ingest(library)
    assert rows(
        archive,
        """
        SELECT t.name, a.name, ar.name FROM tracks t JOIN albums a ON a.id = t.album_id
        JOIN track_artists ta ON ta.track_id = t.id JOIN artists ar ON ar.id = ta.artist_id
        WHERE a.name = 'Unknown Album' ORDER BY t.name""",
    ) == [
        ("untitled demo", "Unknown Album", "Unknown Artist"),
        ("voice memo", "Unknown Album", "Unknown Artist"),
    ]


def test_unreadable_files_are_rejected_with_their_path(library, archive, run_ingest):
    run_ingest(library)
    [(source, locator, reason, raw)] = rows(
        archive, "SELECT source, locator, reason, raw FROM rejects"
    )
    assert (source, locator, reason) == (str(library), "loose/broken.ogg", "unreadable_file")
    assert raw


def test_every_track_records_its_source_audio(library, archive, run_ingest):
    run_ingest(library)
    audio = rows(
        archive,
        "SELECT a.path, a.size, t.name FROM track_audio a JOIN tracks t ON t.id = a.track_id ORDER BY a.path",
    )
    assert len(audio) == 6
    for path, size, _ in audio:
        assert Path(path).is_absolute() and Path(path).stat().st_size == size


def test_a_rescan_gives_the_same_ids_and_changes_nothing(library, archive, run_ingest):
    run_ingest(library)
    before = snapshot(archive)
    again = run_ingest(library)
    assert snapshot(archive) == before
    assert again["merge"]["tracks"]["unchanged"] == 6
    # ids are valid catalogue ids, usable as file names later
    assert all(len(i) == 22 for (i,) in rows(archive, "SELECT id FROM tracks"))


def test_retagging_a_file_updates_its_row(library, archive, run_ingest):
    run_ingest(library)
    p = library / "Ann Ångström" / "Ærø Nights" / "01.ogg"
    _tag(p, isrc="GBXYZ2400001")
    result = run_ingest(library)
    assert result["merge"]["tracks"]["updated"] == 1
    assert rows(archive, "SELECT isrc FROM tracks WHERE name = 'Nacht 1 夜'") == [("GBXYZ2400001",)]


@pytest.mark.parametrize("ext", ["flac", "mp3", "m4a", "opus"])
def test_other_containers_are_read(tmp_path, archive, run_ingest, ext):
    root = tmp_path / "lib"
    root.mkdir()
    p = write_audio(root / f"a.{ext}", 0.5, seed=1)
    _tag(p, title="Título", artist="Zoë", album="Ünïcode")
    run_ingest(root)
    assert rows(
        archive, "SELECT t.name, a.name FROM tracks t JOIN albums a ON a.id = t.album_id"
    ) == [("Título", "Ünïcode")]
