"""On-the-fly transcoding to Ogg Opus with PyAV, yielded chunk by chunk as it is encoded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av

OPUS_RATE = 48000
OPUS_FRAME = 960  # 20 ms at 48 kHz, libopus's default frame
MIN_KBPS, MAX_KBPS = 6, 256


class _Sink:
    """A write-only file for PyAV's muxer; the generator drains what it wrote."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def opus_stream(path: Path, kbps: int) -> Iterator[bytes]:
    """Decode ``path`` and yield it re-encoded as Ogg Opus at ``kbps`` (clamped to 6..256)."""
    kbps = max(MIN_KBPS, min(MAX_KBPS, kbps))
    sink = _Sink()
    with av.open(str(path)) as src:
        stream = src.streams.audio[0]
        layout = "mono" if stream.codec_context.channels == 1 else "stereo"
        out = av.open(sink, "w", format="ogg")  # type: ignore[arg-type]
        try:
            ost = out.add_stream("libopus", rate=OPUS_RATE)
            ost.codec_context.layout = layout
            ost.codec_context.format = "flt"
            ost.codec_context.bit_rate = kbps * 1000
            resampler = av.AudioResampler(
                format="flt", layout=layout, rate=OPUS_RATE, frame_size=OPUS_FRAME
            )
            for frame in src.decode(stream):
                for chunk in resampler.resample(frame):
                    for packet in ost.encode(chunk):
                        out.mux(packet)
                if sink.chunks:
                    yield sink.drain()
            for chunk in resampler.resample(None):
                for packet in ost.encode(chunk):
                    out.mux(packet)
            for packet in ost.encode(None):
                out.mux(packet)
        finally:
            out.close()
    yield sink.drain()
