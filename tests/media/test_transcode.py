"""The Opus encoder: how musark feeds libopus does not change a byte of what it produces."""

from __future__ import annotations

import av
import pytest

from musark.media import transcode
from musark.media.synth import write_audio


def _per_20_ms(frames, layout):
    """The plain way: PyAV's own resampler after every decoded frame, 20 ms frames out."""
    resampler = av.AudioResampler(
        format="flt", layout=layout, rate=transcode.OPUS_RATE, frame_size=transcode.OPUS_FRAME
    )
    for frame in frames:
        frame.pts = None
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


@pytest.mark.parametrize(
    ("name", "rate", "channels"),
    [("s.ogg", 44100, 2), ("m.flac", 22050, 1), ("o.opus", 48000, 2), ("s.mp3", 32000, 2)],
)
def test_one_second_frames_give_the_packets_of_20_ms_frames(
    tmp_path, monkeypatch, name, rate, channels
):
    src = write_audio(tmp_path / name, 4.3, sample_rate=rate, channels=channels, seed=3)
    data = src.read_bytes()
    fast = transcode.to_opus(data, 75, "trk")
    monkeypatch.setattr(transcode, "resampled", _per_20_ms)
    reference = transcode.to_opus(data, 75, "trk")
    assert fast == reference
    assert fast.channels == channels
    assert abs(fast.duration_ms - 4300) <= 30
