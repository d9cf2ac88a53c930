"""Keep tier: the original bitstream is untouched, only tags change, and a patch restores it."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess

import av
import mutagen
import pytest
from mutagen.flac import Picture
from PIL import Image

from tests.conftest import require_tool
from tests.media.conftest import KEEP_FORMATS
from tests.media.fixtures import track_files

EXPECTED_CODEC = {"ogg": "vorbis", "opus": "opus", "flac": "flac", "mp3": "mp3", "m4a": "aac"}


def _packets(data: bytes) -> list[bytes]:
    with av.open(io.BytesIO(data)) as c:
        return [bytes(p) for p in c.demux(audio=0) if p.size]


def _rows(arc) -> dict[str, dict]:
    return {r["track_id"]: r for r in track_files(arc)}


@pytest.mark.parametrize("ext", KEEP_FORMATS)
def test_keep_tier_keeps_extension_codec_and_audio_packets(keep_archive, ext):
    arc, sources = keep_archive
    row = _rows(arc)[f"keep-{ext}"]
    archived = arc.track_path(row["batch"], row["track_id"], row["ext"])
    assert row["ext"] == ext and archived.suffix == f".{ext}"
    assert row["codec"] == EXPECTED_CODEC[ext]
    original = sources[row["track_id"]].read_bytes()
    assert archived.read_bytes() != original  # the tags did change
    assert _packets(archived.read_bytes()) == _packets(original)


@pytest.mark.parametrize("ext", KEEP_FORMATS)
def test_record_matches_the_archived_file(keep_archive, ext):
    arc, sources = keep_archive
    row = _rows(arc)[f"keep-{ext}"]
    data = arc.track_path(row["batch"], row["track_id"], row["ext"]).read_bytes()
    original = sources[row["track_id"]].read_bytes()
    assert row["status"] == "done" and row["error"] is None
    assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["size_original"] == len(original)
    assert row["sha256_original"] == hashlib.sha256(original).hexdigest()
    assert abs(row["duration_ms"] - 3000) < 100
    assert row["channels"] == 2 and row["sample_rate"] in (44100, 48000)
    assert row["bitrate_kbps"] > 0 and row["processed_at"] is not None


def _vorbis_like(f) -> dict[str, list[str]]:
    return {k.upper(): list(v) for k, v in f.tags.as_dict().items()}


def _read_tags(path) -> tuple[dict[str, list[str]], list[bytes]]:
    """Tags under Vorbis-comment names, plus embedded pictures, whatever the format."""
    f = mutagen.File(path)
    ext = path.suffix[1:]
    if ext in ("ogg", "opus", "flac"):
        tags = _vorbis_like(f)
        pics = [Picture(base64.b64decode(b)).data for b in tags.pop("METADATA_BLOCK_PICTURE", [])]
        pics += [p.data for p in getattr(f, "pictures", [])]
        return tags, pics
    if ext == "mp3":
        t = f.tags
        assert t.version == (2, 4, 0)
        txxx = {fr.desc: list(fr.text) for fr in t.getall("TXXX")}
        tags = {
            "TITLE": list(t["TIT2"].text),
            "ARTIST": list(t["TPE1"].text),
            "ALBUMARTIST": list(t["TPE2"].text),
            "ALBUM": list(t["TALB"].text),
            "ORGANIZATION": list(t["TPUB"].text),
            "LABEL": txxx["LABEL"],
            "ISRC": list(t["TSRC"].text),
            "BARCODE": txxx["BARCODE"],
            "DATE": [str(x) for x in t["TDRC"].text],
            "TRACKNUMBER": [t["TRCK"].text[0].split("/")[0]],
            "TRACKTOTAL": [t["TRCK"].text[0].split("/")[1]],
            "DISCNUMBER": list(t["TPOS"].text),
            "COPYRIGHT": list(t["TCOP"].text),
            "SOURCE_ID": txxx["SOURCE_ID"],
            "SOURCE_URN": txxx["SOURCE_URN"],
        }
        return tags, [fr.data for fr in t.getall("APIC")]
    t = f.tags
    free = {
        k.removeprefix("----:com.apple.iTunes:"): [bytes(x).decode() for x in v]
        for k, v in t.items()
        if k.startswith("----")
    }
    tags = {
        "TITLE": t["\xa9nam"],
        "ARTIST": t["\xa9ART"],
        "ALBUMARTIST": t["aART"],
        "ALBUM": t["\xa9alb"],
        "DATE": t["\xa9day"],
        "TRACKNUMBER": [str(t["trkn"][0][0])],
        "TRACKTOTAL": [str(t["trkn"][0][1])],
        "DISCNUMBER": [str(t["disk"][0][0])],
        "COPYRIGHT": t["cprt"],
        **free,
    }
    return tags, [bytes(c) for c in t["covr"]]


@pytest.mark.parametrize("ext", KEEP_FORMATS)
def test_every_tag_reads_back_with_mutagen(keep_archive, ext):
    arc, _ = keep_archive
    row = _rows(arc)[f"keep-{ext}"]
    n = KEEP_FORMATS.index(ext)
    tags, _ = _read_tags(arc.track_path(row["batch"], row["track_id"], row["ext"]))
    expected = {
        "TITLE": [f"Song {n + 1} – ünïcode"],
        "ARTIST": ["Ada Lovetone", "Bo Featured"],
        "ALBUMARTIST": ["Ada Lovetone"],
        "ALBUM": ["Generated Works"],
        "LABEL": ["CC0 Records"],
        "ORGANIZATION": ["CC0 Records"],
        "ISRC": [f"QZAAA24{n:05d}"],
        "BARCODE": ["0123456789012"],
        "DATE": ["2024-05-17"],
        "TRACKNUMBER": [str(n + 1)],
        "TRACKTOTAL": [str(len(KEEP_FORMATS))],
        "DISCNUMBER": ["1"],
        "COPYRIGHT": ["2024 CC0 Records"],
        "SOURCE_ID": [row["track_id"]],
        "SOURCE_URN": [f"urn:musark:track:{row['track_id']}"],
    }
    assert {k: tags.get(k) for k in expected} == expected


@pytest.mark.parametrize("ext", KEEP_FORMATS)
def test_cover_art_is_embedded_and_decodes(keep_archive, ext):
    arc, _ = keep_archive
    row = _rows(arc)[f"keep-{ext}"]
    _, pictures = _read_tags(arc.track_path(row["batch"], row["track_id"], row["ext"]))
    assert len(pictures) == 1
    img = Image.open(io.BytesIO(pictures[0]))
    img.load()
    assert img.size == (300, 200)


@pytest.mark.parametrize("ext", KEEP_FORMATS)
def test_restore_rebuilds_the_original_sha256(keep_archive, ext, cli, tmp_path):
    arc, sources = keep_archive
    row = _rows(arc)[f"keep-{ext}"]
    assert row["patch_size"] < 0.02 * row["size_original"]
    out = tmp_path / f"restored.{ext}"
    result = cli.json("restore", row["track_id"], out, "--archive", arc.root)
    assert result["sha256"] == row["sha256_original"]
    assert out.read_bytes() == sources[row["track_id"]].read_bytes()


@pytest.mark.parametrize("ext", ["ogg", "flac"])
def test_zstd_cli_applies_the_patch_without_musark(keep_archive, ext, tmp_path):
    zstd = require_tool("zstd")
    arc, _ = keep_archive
    row = _rows(arc)[f"keep-{ext}"]
    archived = arc.track_path(row["batch"], row["track_id"], row["ext"])
    out = tmp_path / "original"
    subprocess.run(
        [
            zstd,
            "-q",
            "-d",
            f"--patch-from={archived}",
            str(arc.patch_path(row["batch"], row["track_id"])),
            "-o",
            str(out),
        ],
        check=True,
    )
    assert hashlib.sha256(out.read_bytes()).hexdigest() == row["sha256_original"]
