"""Generated CC0 test audio: tones and noise encoded with PyAV in every container musark handles."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from musark.fsio import atomic_path

# extension -> (container format, encoder, sample format the encoder takes)
FORMATS: dict[str, tuple[str, str, str]] = {
    "ogg": ("ogg", "vorbis", "fltp"),
    "opus": ("ogg", "libopus", "flt"),
    "flac": ("flac", "flac", "s16"),
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "m4a": ("ipod", "aac", "fltp"),
}


def synth_pcm(seconds: float, sample_rate: int, channels: int, seed: int) -> np.ndarray:
    """Return float32 planar PCM (channels × samples): a chord with a slow sweep plus soft noise."""
    rng = np.random.default_rng(seed)
    n = max(1, int(seconds * sample_rate))
    t = np.arange(n, dtype=np.float64) / sample_rate
    base = 110.0 + (seed % 24) * 20.0
    sig = np.zeros(n)
    for k, amp in ((1, 0.3), (1.5, 0.15), (2, 0.1)):
        sig += amp * np.sin(2 * np.pi * base * k * t + 0.5 * np.sin(2 * np.pi * 0.2 * t))
    pcm = np.empty((channels, n), dtype=np.float32)
    for ch in range(channels):
        pcm[ch] = (sig + 0.03 * rng.standard_normal(n)).astype(np.float32)
    return np.clip(pcm, -1.0, 1.0)


def write_audio(
    path: Path | str,
    seconds: float = 5.0,
    *,
    sample_rate: int = 44100,
    channels: int = 2,
    kbps: int | None = None,
    seed: int = 0,
) -> Path:
    """Encode generated audio to ``path``; the container and codec follow the file extension."""
    path = Path(path)
    ext = path.suffix.lstrip(".").lower()
    if ext not in FORMATS:
        raise ValueError(f"{path}: cannot synthesise .{ext} (known: {', '.join(FORMATS)})")
    fmt, codec_name, sample_fmt = FORMATS[ext]
    if codec_name == "libopus":
        sample_rate = 48000
    pcm = synth_pcm(seconds, sample_rate, channels, seed)
    layout = av.AudioLayout(f"{channels}c").name  # FFmpeg's default layout for that many
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format=fmt) as container:
        stream = container.add_stream(codec_name, rate=sample_rate)
        stream.codec_context.layout = layout
        stream.codec_context.format = sample_fmt
        if codec_name == "vorbis":
            # ffmpeg's native Vorbis encoder is flagged experimental; it is the one PyAV bundles.
            stream.codec_context.options = {"strict": "experimental"}
        if kbps:
            stream.codec_context.bit_rate = kbps * 1000
        frame_size = stream.codec_context.frame_size or 1024
        pts = 0
        for start in range(0, pcm.shape[1], frame_size):
            chunk = pcm[:, start : start + frame_size]
            if sample_fmt == "s16":
                data = (chunk * 32767).astype(np.int16).T.reshape(1, -1)
            elif sample_fmt == "flt":
                data = np.ascontiguousarray(chunk.T.reshape(1, -1))
            else:
                data = np.ascontiguousarray(chunk)
            frame = av.AudioFrame.from_ndarray(data, format=sample_fmt, layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = pts
            frame.time_base = Fraction(1, sample_rate)
            pts += chunk.shape[1]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def remux_head(src: Path | str, dest: Path | str, seconds: float) -> None:
    """Write the first ``seconds`` of ``src`` to ``dest`` by remuxing packets (no re-encode)."""
    with av.open(str(src)) as inp:
        stream = inp.streams.audio[0]
        with av.open(str(dest), "w", format=inp.format.name) as out:
            ostream = out.add_stream_from_template(stream)
            for packet in inp.demux(stream):
                if packet.dts is None:
                    continue  # the demuxer's final flush packet
                if packet.pts is not None and packet.pts * packet.time_base >= seconds:
                    break
                packet.stream = ostream
                out.mux(packet)
