"""Media retrieval: byte ranges, Opus transcoding checked with mutagen and PyAV, downloads, covers."""

from __future__ import annotations

import io

import av
import mutagen
import pytest
from PIL import Image

from tests.serve.conftest import Running


def _auth(running: Running) -> dict:
    return dict(running.get("ping").request.url.params)


@pytest.mark.parametrize(
    ("rng", "sl"),
    [("0-99", slice(0, 100)), ("1000-", slice(1000, None)), ("-64", slice(-64, None))],
)
def test_stream_serves_byte_ranges(running: Running, rng, sl):
    data = running.released.files["t04"].read_bytes()
    resp = running.http.get(
        f"{running.url}/rest/stream.view",
        params=_auth(running) | {"id": "tr-t04"},
        headers={"Range": f"bytes={rng}"},
    )
    assert resp.status_code == 206
    assert resp.content == data[sl]
    assert resp.headers["content-range"].endswith(f"/{len(data)}")


def test_download_is_the_file_with_its_name(running: Running):
    resp = running.get("download", id="tr-t09")
    assert resp.content == running.released.files["t09"].read_bytes()
    assert "t09.opus" in resp.headers["content-disposition"]


@pytest.mark.parametrize(
    ("params", "kbps"), [({"format": "opus"}, 128), ({"maxBitRate": "48"}, 48)]
)
def test_stream_transcodes_to_opus(running: Running, tmp_path, params, kbps):
    resp = running.get("stream", id="tr-t01", **params)  # FLAC source
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/ogg"
    out = tmp_path / "x.opus"
    out.write_bytes(resp.content)
    info = mutagen.File(out)
    assert type(info).__name__ == "OggOpus"
    assert info.info.length == pytest.approx(2.0, abs=0.1)
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "opus"
        samples = sum(f.samples for f in c.decode(audio=0))
    assert samples == pytest.approx(96000, rel=0.05)
    # A lower target bitrate makes a smaller file than the lossless source.
    assert len(resp.content) < running.released.files["t01"].stat().st_size / 3


@pytest.mark.parametrize("tid", ["t01", "t04", "t09"])
def test_time_offset_starts_the_transcode_later(running: Running, tmp_path, tid):
    resp = running.get("stream", id=f"tr-{tid}", timeOffset="1")
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/ogg"
    out = tmp_path / "late.opus"
    out.write_bytes(resp.content)
    with av.open(str(out)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
    # 2 s files started at 1 s: about one second is left.
    assert samples == pytest.approx(48000, rel=0.1)


def test_no_transcode_when_file_is_already_under_max_bitrate(running: Running):
    resp = running.get("stream", id="tr-t04", maxBitRate="320")
    assert resp.content == running.released.files["t04"].read_bytes()
    assert running.get("stream", id="tr-t01", format="raw").content == (
        running.released.files["t01"].read_bytes()
    )
    assert running.json("stream", id="tr-t01", format="wav")["error"]["code"] == 0


@pytest.mark.parametrize("cover_id", ["al-al1", "al-al2", "al-al3", "tr-t05", "ar-ar1"])
def test_cover_art_from_embedded_pictures(running: Running, cover_id):
    full = Image.open(io.BytesIO(running.get("getCoverArt", id=cover_id).content))
    assert full.size == (600, 600)
    small = Image.open(io.BytesIO(running.get("getCoverArt", id=cover_id, size="50").content))
    assert small.size == (50, 50) and small.format == "JPEG"


def test_album_art_collection_comes_before_embedded_pictures(running: Running):
    # al4 has an 800 px image in release/album_art/ and a 600 px cover embedded in t10.
    album = Image.open(io.BytesIO(running.get("getCoverArt", id="al-al4").content))
    assert album.size == (800, 800)
    song = Image.open(io.BytesIO(running.get("getCoverArt", id="tr-t10").content))
    assert song.size == (600, 600)


def test_lyrics_are_empty(running: Running):
    body = running.json("getLyrics", artist="x", title="y")
    assert body["status"] == "ok" and body["lyrics"]["value"] == ""
