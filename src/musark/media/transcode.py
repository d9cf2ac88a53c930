"""Re-encode any decodable audio to Ogg Opus with libopus through PyAV, deterministically."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import av
from av.filter import Graph

from musark.media.probe import BadAudio

OPUS_RATE = 48000
OPUS_FRAME = 960  # 20 ms, libopus' default frame
# The resampler hands the encoder 1 s frames. PyAV's encoder cuts any frame into OPUS_FRAME
# frames in its own filter graph, so frames of any size give the same packets; big ones mean
# 50 times fewer encode/mux calls (each costs Python and filter-graph work, ~10 % of a file's
# CPU with 20 ms frames).
FEED_FRAME = OPUS_RATE


@dataclass(frozen=True)
class Encoded:
    """An Ogg Opus file in memory and what it holds."""

    data: bytes
    duration_ms: int
    audio_bytes: int
    channels: int


def ogg_serial(key: str) -> int:
    """A stable Ogg stream serial number derived from ``key`` (ffmpeg would pick a random one)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x3FFFFFFF


def _resampler(first: av.AudioFrame, layout: av.AudioLayout) -> tuple[Graph, Any, Any]:
    """A filter graph from ``first``'s format to 48 kHz float in ``layout``, FEED_FRAME samples
    per output frame: (graph, its source, its sink)."""
    graph = Graph()
    time_base = {"time_base": str(first.time_base)} if first.time_base is not None else {}
    source = graph.add(
        "abuffer",
        sample_rate=str(first.sample_rate),
        sample_fmt=first.format.name,
        channel_layout=first.layout.name,
        **time_base,
    )
    convert = graph.add(
        "aformat", sample_rates=str(OPUS_RATE), sample_fmts="flt", channel_layouts=layout.name
    )
    sink = graph.add("abuffersink")
    source.link_to(convert)
    convert.link_to(sink)
    graph.configure()
    graph.set_audio_frame_size(FEED_FRAME)
    return graph, source, sink


def _drain(sink: Any) -> Iterator[av.AudioFrame]:
    while True:
        try:
            yield sink.pull()
        except (BlockingIOError, EOFError):  # FFmpeg's EAGAIN (needs more input) and EOF
            return


def resampled(frames: Iterable[av.AudioFrame], layout: av.AudioLayout) -> Iterator[av.AudioFrame]:
    """``frames`` at 48 kHz float in ``layout``, FEED_FRAME samples per frame (the last shorter).

    The graph is pulled once per second of input rather than after every decoded frame (each
    empty pull raises an exception in PyAV: ~0.1 CPU-s per 3-min file with av.AudioResampler).
    """
    graph = source = sink = None
    pending = due = 0
    for frame in frames:
        frame.pts = None  # let the resampler count samples: input gaps never skew time
        if graph is None:
            graph, source, sink = _resampler(frame, layout)
            due = frame.sample_rate
        source.push(frame)
        pending += frame.samples
        if pending >= due:
            pending = 0
            yield from _drain(sink)
    if graph is not None:
        source.push(None)
        yield from _drain(sink)


def to_opus(data: bytes, kbps: int, serial_key: str) -> Encoded:
    """Decode ``data``, resample to 48 kHz (channels kept) and encode VBR Opus at ``kbps``."""
    out = io.BytesIO()
    samples = 0
    audio_bytes = 0
    try:
        with av.open(io.BytesIO(data)) as src:
            in_stream = src.streams.audio[0]
            layout = in_stream.codec_context.layout
            channels = layout.nb_channels
            if channels > 2 and layout.name not in ("3.0", "quad", "5.0", "5.1", "6.1", "7.1"):
                layout = av.AudioLayout(channels)
            # bitexact + serial_offset: no random Ogg serial and no version strings, so the same
            # input gives byte-identical output on every run and machine with the same libopus.
            dst = av.open(
                out,
                "w",
                format="ogg",
                options={"fflags": "+bitexact", "serial_offset": str(ogg_serial(serial_key))},
            )
            with dst:
                stream = dst.add_stream("libopus", rate=OPUS_RATE)
                ctx = stream.codec_context
                ctx.layout = layout
                ctx.format = "flt"
                ctx.bit_rate = kbps * 1000
                ctx.options = {"vbr": "on", "application": "audio"}
                ctx.flags |= av.codec.context.Flags.bitexact
                encode, mux = stream.encode, dst.mux
                for frame in chain(resampled(src.decode(in_stream), layout), [None]):
                    samples += frame.samples if frame is not None else 0
                    packets = encode(frame)
                    audio_bytes += sum(p.size for p in packets)
                    mux(packets)
    except av.FFmpegError as exc:
        raise BadAudio(
            f"corrupt: decoding failed while transcoding ({exc.strerror or exc})"
        ) from exc
    if samples == 0:
        raise BadAudio("corrupt: no decodable audio")
    return Encoded(out.getvalue(), round(samples * 1000 / OPUS_RATE), audio_bytes, channels)
