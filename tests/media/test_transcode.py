"""The Opus encoder: how musark decodes and feeds libopus does not change a byte of what it
produces, whatever the source's format, rate or channels; bad sources get a reason."""

from __future__ import annotations

import io
import os
from contextlib import contextmanager

import av
import pytest

from musark.media import transcode
from musark.media.probe import BadAudio
from musark.media.synth import write_audio


@contextmanager
def _plain(data, layout):
    """The plain way: PyAV demuxes and decodes every packet, its own resampler after every
    decoded frame, 20 ms frames out."""
    resampler = av.AudioResampler(
        format="flt", layout=layout, rate=transcode.OPUS_RATE, frame_size=transcode.OPUS_FRAME
    )

    def frames(src):
        for frame in src.decode(src.streams.audio[0]):
            frame.pts = None
            yield from resampler.resample(frame)
        yield from resampler.resample(None)

    with av.open(io.BytesIO(data)) as src:
        yield frames(src)


SOURCES = [
    ("s.ogg", 44100, 2),
    ("m.flac", 22050, 1),
    ("o.opus", 48000, 2),
    ("s.mp3", 32000, 2),
    ("s.m4a", 44100, 2),
    ("surround.flac", 48000, 6),
]


@pytest.mark.parametrize(("name", "rate", "channels"), SOURCES)
def test_decoding_in_c_with_one_second_frames_gives_the_packets_of_the_plain_way(
    tmp_path, monkeypatch, name, rate, channels
):
    src = write_audio(tmp_path / name, 4.3, sample_rate=rate, channels=channels, seed=3)
    data = src.read_bytes()
    fast = transcode.to_opus(data, 75, "trk")
    monkeypatch.setattr(transcode, "decoded", _plain)
    reference = transcode.to_opus(data, 75, "trk")
    assert fast == reference
    assert fast.channels == channels
    assert abs(fast.duration_ms - 4300) <= 30


def test_without_memfd_the_source_is_decoded_from_a_temporary_file(tmp_path, monkeypatch):
    data = write_audio(tmp_path / "s.ogg", 2.0, seed=5).read_bytes()
    from_memory = transcode.to_opus(data, 75, "trk")
    monkeypatch.delattr(os, "memfd_create")
    assert transcode.to_opus(data, 75, "trk") == from_memory


@pytest.mark.parametrize(
    ("source", "encoded"),
    [("mono", "mono"), ("stereo", "stereo"), ("5.1", "5.1"), ("5.1(side)", "5.1"),
     ("2.1", "3.0"), ("4.0", "quad"), ("7.1", "7.1")],
)  # fmt: skip
def test_a_layout_libopus_cannot_take_is_remixed_into_one_of_as_many_channels(source, encoded):
    assert transcode.opus_layout(av.AudioLayout(source)).name == encoded


def test_more_than_eight_channels_is_refused_with_a_reason():
    with pytest.raises(BadAudio, match="unsupported: 10 channels"):
        transcode.opus_layout(av.AudioLayout("10c"))


def test_a_source_damaged_in_the_middle_fails_with_the_decoders_reason(tmp_path):
    data = bytearray(write_audio(tmp_path / "s.mp3", 20.0, seed=2).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = bytes((i * 37 + 11) % 256 for i in range(4000))
    with pytest.raises(BadAudio, match="corrupt: decoding failed while transcoding"):
        transcode.to_opus(bytes(data), 75, "trk")
