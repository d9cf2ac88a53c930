"""Re-encode any decodable audio to Ogg Opus with libopus through PyAV, deterministically."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Any

import av
from av.filter import Graph

from musark.media.probe import BadAudio

OPUS_RATE = 48000
OPUS_FRAME = 960  # 20 ms, libopus' default frame
# The decoding graph hands the encoder 1 s frames. PyAV's encoder cuts any frame into OPUS_FRAME
# frames in its own filter graph, so frames of any size give the same packets; big ones mean
# 50 times fewer encode/mux calls (each costs Python and filter-graph work, ~10 % of a file's
# CPU with 20 ms frames).
FEED_FRAME = OPUS_RATE
# The channel layouts libopus encodes (Vorbis channel order, mapping family 1), by channel count:
# a source in another layout of as many channels is remixed into this one.
OPUS_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


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


def opus_layout(layout: av.AudioLayout) -> av.AudioLayout:
    """The layout libopus encodes a source in ``layout`` as (the same when it can)."""
    channels = layout.nb_channels
    if channels not in OPUS_LAYOUTS:
        raise BadAudio(f"unsupported: {channels} channels (the Opus tier encodes 1 to 8)")
    if channels > 2 and layout.name not in OPUS_LAYOUTS.values():
        return av.AudioLayout(OPUS_LAYOUTS[channels])
    return layout


@contextmanager
def _readable_path(data: bytes) -> Iterator[str]:
    """A path FFmpeg can open that reads ``data`` from memory (a memfd; elsewhere a temporary
    file), so the source is decoded from the very bytes that were hashed, without a second read."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("musark-source", os.MFD_CLOEXEC)
        try:
            with open(fd, "wb", closefd=False) as fh:
                fh.write(data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.NamedTemporaryFile(prefix="musark-source-") as fh:
        fh.write(data)
        fh.flush()
        yield fh.name


def _decoder(path: str, layout: av.AudioLayout) -> tuple[Graph, Any]:
    """A filter graph that demuxes and decodes the first audio stream of ``path`` and converts
    it to 48 kHz float in ``layout``, FEED_FRAME samples per frame: (graph, its sink).

    FFmpeg's movie source demuxes and decodes in C: through PyAV, each of the ~8,000 packets of
    a 3-min file would make a Python packet and frame object and be pushed into the graph from
    Python (2 % of the file's CPU)."""
    graph = Graph()
    source = graph.add("amovie", filename=path, streams="a:0", dec_threads="1")
    convert = graph.add(
        "aformat", sample_rates=str(OPUS_RATE), sample_fmts="flt", channel_layouts=layout.name
    )
    sink = graph.add("abuffersink")
    source.link_to(convert)
    convert.link_to(sink)
    graph.configure()
    graph.set_audio_frame_size(FEED_FRAME)
    return graph, sink


@contextmanager
def decoded(data: bytes, layout: av.AudioLayout) -> Iterator[Iterator[av.AudioFrame]]:
    """The audio of ``data`` as 48 kHz float frames in ``layout`` (FEED_FRAME samples each, the
    last shorter), valid inside the ``with``."""
    with _readable_path(data) as path:
        # held until the ``with`` ends: PyAV's filter contexts reference their graph weakly
        graph, sink = _decoder(path, layout)

        def frames() -> Iterator[av.AudioFrame]:
            while True:
                try:
                    frame = sink.pull()
                except EOFError:
                    return
                frame.pts = None  # the encoder counts samples: input gaps never skew time
                yield frame

        yield frames()
        del graph


def _source_layout(data: bytes) -> av.AudioLayout:
    """The channel layout of the first audio stream of ``data`` (read from its headers)."""
    with av.open(io.BytesIO(data)) as src:
        return src.streams.audio[0].codec_context.layout


def to_opus(data: bytes, kbps: int, serial_key: str) -> Encoded:
    """Decode ``data``, resample to 48 kHz (channels kept) and encode VBR Opus at ``kbps``."""
    out = io.BytesIO()
    samples = 0
    audio_bytes = 0
    try:
        layout = opus_layout(_source_layout(data))
        # bitexact + serial_offset: no random Ogg serial and no version strings, so the same
        # input gives byte-identical output on every run and machine with the same libopus.
        dst = av.open(
            out,
            "w",
            format="ogg",
            options={"fflags": "+bitexact", "serial_offset": str(ogg_serial(serial_key))},
        )
        with dst, decoded(data, layout) as frames:
            stream = dst.add_stream("libopus", rate=OPUS_RATE)
            ctx = stream.codec_context
            ctx.layout = layout
            ctx.format = "flt"
            ctx.bit_rate = kbps * 1000
            ctx.options = {"vbr": "on", "application": "audio"}
            ctx.flags |= av.codec.context.Flags.bitexact
            encode, mux = stream.encode, dst.mux
            for frame in chain(frames, [None]):
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
    return Encoded(
        out.getvalue(), round(samples * 1000 / OPUS_RATE), audio_bytes, layout.nb_channels
    )
