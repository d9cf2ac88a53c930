"""Probe source audio with PyAV and reject what must not be archived: the reason names the fault."""

from __future__ import annotations

import io
from collections import deque
from dataclasses import dataclass

import av

from musark.media import ogg

# A container whose packets cover less than its own timeline by more than this lost audio.
# (Ogg is checked page by page instead: CRC, sequence and end of stream, see media/ogg.py.)
GAP_TOLERANCE_S = 0.1
# Check decodability of this many packets at each end (a full decode is the opus tier's job).
EDGE_PACKETS = 8

# probe codec → (file extension kept by the keep tier)
KEEP_EXT: dict[tuple[str, str], str] = {
    ("ogg", "vorbis"): "ogg",
    ("ogg", "opus"): "opus",
    ("ogg", "flac"): "ogg",
    ("flac", "flac"): "flac",
    ("mp3", "mp3"): "mp3",
    ("mp4", "aac"): "m4a",
    ("mp4", "alac"): "m4a",
}

_AUDIO_MAGIC = (b"OggS", b"fLaC", b"ID3", b"RIFF", b"FORM", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


class BadAudio(ValueError):
    """Source audio that goes to quarantine; ``str()`` is the recorded reason."""


@dataclass(frozen=True)
class Probe:
    """What PyAV found in one audio file."""

    container: str  # short family name: ogg, flac, mp3, mp4, or PyAV's format name
    codec: str
    sample_rate: int
    channels: int
    duration_ms: int
    audio_bytes: int  # sum of audio packet sizes (the bitstream, without container or tags)

    @property
    def bitrate_kbps(self) -> int:
        """Bitrate of the audio bitstream alone (tags and cover art do not count)."""
        return round(self.audio_bytes * 8 / max(self.duration_ms, 1))

    @property
    def keep_ext(self) -> str | None:
        """Extension of this file in the keep tier, None when musark cannot tag it in place."""
        return KEEP_EXT.get((self.container, self.codec))


def _family(format_name: str) -> str:
    names = set(format_name.split(","))
    for family in ("ogg", "flac", "mp3"):
        if family in names:
            return family
    if names & {"mov", "mp4", "m4a", "ipod", "3gp"}:
        return "mp4"
    return format_name


def _looks_like_audio(data: bytes) -> bool:
    return data.startswith(_AUDIO_MAGIC) or data[4:8] == b"ftyp"


def _check_duration(duration_ms: int, expected_ms: int | None, tolerance: float) -> None:
    if expected_ms and abs(duration_ms - expected_ms) > tolerance * expected_ms:
        raise BadAudio(
            f"duration mismatch: file {duration_ms / 1000:.2f} s, catalogue "
            f"{expected_ms / 1000:.2f} s (tolerance {tolerance:.0%})"
        )


def _decode_head(container: av.container.InputContainer, stream: av.AudioStream) -> int:
    """Decode the first packets; return the samples they gave."""
    decoded = 0
    try:
        for index, packet in enumerate(container.demux(stream)):
            if index >= EDGE_PACKETS:
                break
            decoded += sum(f.samples for f in stream.codec_context.decode(packet))
    except av.FFmpegError as exc:
        raise BadAudio(f"corrupt: {exc.strerror or exc}") from exc
    return decoded


def _probe_ogg(data: bytes, container: av.container.InputContainer) -> tuple[int, int]:
    """(duration ms, audio bytes) of an Ogg file whose every page was checked (CRC, order, end)."""
    try:
        audio_bytes = ogg.check_pages(data)
    except ogg.OggDamage as exc:
        raise BadAudio(str(exc)) from exc
    if _decode_head(container, container.streams.audio[0]) == 0:
        raise BadAudio("corrupt: no decodable audio")
    if not container.duration or audio_bytes == 0:
        raise BadAudio("corrupt: no audio pages")
    return round(container.duration / 1000), audio_bytes


def _probe_packets(container: av.container.InputContainer) -> tuple[int, int]:
    """(duration ms, audio bytes) from every demuxed packet, decoding the first and last few."""
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    tb = stream.time_base
    first_pts = end_pts = None
    covered = 0
    audio_bytes = 0
    tail: deque[av.Packet] = deque(maxlen=EDGE_PACKETS)
    decoded = 0
    try:
        for index, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue
            audio_bytes += packet.size
            if packet.pts is not None:
                first_pts = packet.pts if first_pts is None else first_pts
                end_pts = packet.pts + (packet.duration or 0)
            covered += packet.duration or 0
            if index < EDGE_PACKETS:
                decoded += sum(f.samples for f in ctx.decode(packet))
            else:
                tail.append(packet)
    except av.FFmpegError as exc:
        raise BadAudio(f"corrupt: {exc.strerror or exc}") from exc
    try:
        for packet in tail:
            decoded += sum(f.samples for f in ctx.decode(packet))
    except av.FFmpegError as exc:
        raise BadAudio(
            f"truncated or corrupt: the last packets do not decode ({exc.strerror or exc})"
        ) from exc
    if audio_bytes == 0 or first_pts is None:
        raise BadAudio("corrupt: no audio packets")
    if decoded == 0:
        raise BadAudio("corrupt: no decodable audio")
    timeline_s = float((end_pts - first_pts) * tb)
    covered_s = float(covered * tb)
    if timeline_s - covered_s > GAP_TOLERANCE_S:
        raise BadAudio(
            f"corrupt: {timeline_s - covered_s:.2f} s of audio lost to damaged data "
            f"(between {max(0.0, float(first_pts * tb)):.1f} s and {float(end_pts * tb):.1f} s)"
        )
    declared_s = container.duration / 1e6 if container.duration else None
    if declared_s and covered_s < declared_s - max(0.5, 0.02 * declared_s):
        raise BadAudio(
            f"truncated: header declares {declared_s:.2f} s, the file holds {covered_s:.2f} s"
        )
    return round(covered_s * 1000), audio_bytes


def probe_audio(data: bytes, expected_ms: int | None = None, tolerance: float = 0.25) -> Probe:
    """Probe audio bytes; raise BadAudio (zero-length, not audio, corrupt, truncated, mismatch)."""
    if not data:
        raise BadAudio("zero-length file")
    try:
        container = av.open(io.BytesIO(data))
    except av.FFmpegError as exc:
        if _looks_like_audio(data):
            raise BadAudio(f"corrupt: cannot open the container ({exc.strerror})") from exc
        raise BadAudio("not audio: unrecognised file format") from exc
    with container:
        if not container.streams.audio:
            kinds = sorted({s.type for s in container.streams}) or ["nothing"]
            raise BadAudio(
                f"not audio: {container.format.name} holding {', '.join(kinds)} and no audio stream"
            )
        family = _family(container.format.name)
        if family == "ogg":
            duration_ms, audio_bytes = _probe_ogg(data, container)
        else:
            duration_ms, audio_bytes = _probe_packets(container)
        ctx = container.streams.audio[0].codec_context
        _check_duration(duration_ms, expected_ms, tolerance)
        return Probe(
            container=family,
            codec=ctx.codec.canonical_name,
            sample_rate=ctx.sample_rate,
            channels=ctx.channels,
            duration_ms=duration_ms,
            audio_bytes=audio_bytes,
        )
