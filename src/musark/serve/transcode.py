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


def _from(frames: Iterator[av.AudioFrame], offset: float) -> Iterator[av.AudioFrame]:
    """Frames from ``offset`` seconds on; the first is cut at the offset, and times restart at 0."""
    for frame in frames:
        if frame.time is None or offset <= 0:
            yield frame
            continue
        end = frame.time + frame.samples / frame.sample_rate
        if end <= offset:
            continue
        skip = max(0, int((offset - frame.time) * frame.sample_rate))
        if skip:
            data = frame.to_ndarray()
            planar = frame.format.is_planar
            cut = data[:, skip:] if planar else data[:, skip * len(frame.layout.channels) :]
            part = av.AudioFrame.from_ndarray(
                cut, format=frame.format.name, layout=frame.layout.name
            )
            part.sample_rate = frame.sample_rate
            frame = part
        frame.pts = None
        yield frame


def opus_stream(path: Path, kbps: int, offset: float = 0.0) -> Iterator[bytes]:
    """Decode ``path`` from ``offset`` seconds and yield it as Ogg Opus at ``kbps`` (6..256)."""
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
            if offset > 0:
                # Seek to the key frame before the offset; _from drops what precedes it.
                src.seek(int(offset * 1_000_000), any_frame=False)
            for frame in _from(src.decode(stream), offset):
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
