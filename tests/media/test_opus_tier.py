"""Opus tiers: any decodable source becomes a valid, tagged Ogg Opus at the tier's bitrate."""

from __future__ import annotations

import av
import mutagen.oggopus
import pytest

from musark.archive import Archive, init_archive
from musark.media import libopus
from musark.media.process import process_archive
from tests.media.fixtures import Track, cover_png, make_catalog, track_files

SECONDS = 20.0


@pytest.fixture(scope="module")
def opus_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("opus")
    arc = Archive(root / "archive")
    init_archive(arc)
    tracks = [
        Track("op-ogg", "ogg", SECONDS, tier="opus75"),
        Track("op-flac-mono", "flac", SECONDS, tier="opus75", channels=1),
        Track("op-mp3", "mp3", SECONDS, tier="opus75"),
    ]
    sources = make_catalog(arc, tracks, root / "src", cover=cover_png(root / "c.png"))
    report = process_archive(arc, source_dir=root / "src", workers=2, show_progress=False)
    assert report.done == 3, report.as_dict()
    assert report.as_dict()["libopus"] == libopus.active().describe()  # which library encoded
    return arc, sources, {r["track_id"]: r for r in track_files(arc)}


@pytest.mark.parametrize("track_id", ["op-ogg", "op-flac-mono", "op-mp3"])
def test_opus_tier_is_valid_ogg_opus_at_the_tier_bitrate(opus_archive, track_id):
    arc, _, rows = opus_archive
    row = rows[track_id]
    path = arc.track_path(row["batch"], track_id, "opus")
    assert row["ext"] == "opus" and row["codec"] == "opus" and row["sample_rate"] == 48000
    f = mutagen.oggopus.OggOpus(path)
    assert abs(f.info.length - SECONDS) < 0.1
    expected_channels = 1 if "mono" in track_id else 2
    assert f.info.channels == expected_channels == row["channels"]
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        assert stream.codec_context.name in ("opus", "libopus")
        audio_bytes = 0
        samples = 0
        for packet in c.demux(stream):
            audio_bytes += packet.size
            for frame in packet.decode():
                samples += frame.samples
    assert abs(samples / 48000 - SECONDS) < 0.1
    kbps = audio_bytes * 8 / SECONDS / 1000
    assert 75 * 0.85 <= kbps <= 75 * 1.15, kbps
    assert abs(row["bitrate_kbps"] - kbps) <= 1
    assert f.tags["SOURCE_URN"] == [f"urn:musark:track:{track_id}"]
    assert f.tags["ARTIST"] == ["Ada Lovetone", "Bo Featured"]
    assert len(f.tags["METADATA_BLOCK_PICTURE"]) == 1
    assert row["patch_size"] is None and arc.patch_path(row["batch"], track_id).exists() is False


def test_restore_refuses_a_re_encoded_track(opus_archive, cli, tmp_path):
    arc, _, _ = opus_archive
    cli("restore", "op-ogg", tmp_path / "x", "--archive", arc.root, ok=False)
    assert cli.last.exit_code == 1
    assert "original was not kept" in cli.last.output
    assert "re-encoded to opus" in cli.last.output
    assert not (tmp_path / "x").exists()
