"""The pure per-track function: one planned track in, its files written and its record out.

It touches nothing but its own source file and its own output paths, so any executor (process
pool, Ray task) can run it, any number of times: re-running it rewrites identical bytes.
Executors run it on chunks of tracks (``process_chunk``) whose files are synced to disk in the
background while the next track is computed, then renamed into place together.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from musark.archive import Archive
from musark.catalog.schema import PROCESS_RESULT_COLUMNS
from musark.fsio import AtomicBatch
from musark.media.cover import Cover, CoverError, load_cover_file, prepare_cover
from musark.media.patch import make_patch
from musark.media.probe import BadAudio, probe_audio
from musark.media.tags import TrackTags, embedded_picture, write_tags
from musark.media.transcode import to_opus
from musark.run.memory import reuse_freed_memory

_EXT_RE = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class TrackJob:
    """Everything the per-track function needs (plain data: it travels to worker processes)."""

    archive_root: str
    track_id: str
    batch: str
    tier: str
    action: str  # keep | opus
    target_kbps: int | None
    source: str | None  # absolute path of the source file, None when none was found
    source_hint: str  # where musark looked, for the missing-source reason
    expected_ms: int | None
    tags: TrackTags
    cover_path: str | None = None
    cover_max_px: int = 1000
    cover_max_bytes: int = 20_000_000
    duration_tolerance: float = 0.25


RECORD_FIELDS = ("track_id", "batch", "status", "codec", *PROCESS_RESULT_COLUMNS)


def _record(job: TrackJob, **values: Any) -> dict[str, Any]:
    rec = dict.fromkeys(RECORD_FIELDS)
    rec.update(track_id=job.track_id, batch=job.batch)
    rec.update(values)
    return rec


@lru_cache(maxsize=64)
def _cover_from_file(path: str, mtime_ns: int, max_px: int, max_bytes: int) -> Cover:
    # An album's tracks share one image: prepare it once per worker (keyed by mtime for freshness).
    return load_cover_file(path, max_px, max_bytes)


def _choose_cover(job: TrackJob, source: bytes) -> tuple[Cover | None, str | None]:
    """The catalogue's image, else a picture carried over from the source; plus a skip reason."""
    reasons = []
    if job.cover_path:
        try:
            mtime = os.stat(job.cover_path).st_mtime_ns
            return _cover_from_file(
                job.cover_path, mtime, job.cover_max_px, job.cover_max_bytes
            ), None
        except OSError as exc:
            reasons.append(f"cover {job.cover_path}: cannot read ({exc.strerror})")
        except CoverError as exc:
            reasons.append(str(exc))
    picture = embedded_picture(source)
    if picture is not None:
        try:
            return prepare_cover(
                picture, job.cover_max_px, job.cover_max_bytes, name="picture in source"
            ), ("; ".join(reasons) or None)
        except CoverError as exc:
            reasons.append(str(exc))
    return None, "; ".join(reasons) or None


def _quarantine(
    job: TrackJob, archive: Archive, data: bytes, reason: str, out: AtomicBatch
) -> dict[str, Any]:
    ext = Path(job.source or "").suffix.lstrip(".").lower()
    ext = ext if _EXT_RE.match(ext) else "bin"
    out.write(archive.quarantine_dir / job.batch / f"{job.track_id}.{ext}", data)
    return _record(
        job,
        status="quarantined",
        error=reason,
        sha256_original=hashlib.sha256(data).hexdigest(),
        size_original=len(data),
    )


def _process(job: TrackJob, out: AtomicBatch) -> dict[str, Any]:
    """Probe, keep-or-transcode, tag and patch one track, its files written to ``out``; return
    its catalogue record."""
    archive = Archive(Path(job.archive_root))
    if job.source is None:
        return _record(job, status="quarantined", error=f"missing source: {job.source_hint}")
    try:
        data = Path(job.source).read_bytes()
    except OSError as exc:
        return _record(
            job, status="quarantined", error=f"missing source: {job.source} ({exc.strerror})"
        )
    try:
        probe = probe_audio(data, job.expected_ms, job.duration_tolerance)
        if job.action == "keep" and probe.keep_ext is None:
            raise BadAudio(
                f"unsupported for the keep tier: {probe.codec} in {probe.container} "
                "(musark keeps Ogg Vorbis/Opus/FLAC, FLAC, MP3 and MP4 AAC/ALAC as they are)"
            )
        cover, warning = _choose_cover(job, data)
        if job.action == "keep":
            ext = probe.keep_ext
            archived = write_tags(data, ext, job.tags, cover)
            values = dict(
                codec=probe.codec,
                duration_ms=probe.duration_ms,
                bitrate_kbps=probe.bitrate_kbps,
                sample_rate=probe.sample_rate,
                channels=probe.channels,
            )
        else:
            encoded = to_opus(data, job.target_kbps or 75, job.track_id)
            ext = "opus"
            archived = write_tags(encoded.data, ext, job.tags, cover)
            values = dict(
                codec="opus",
                duration_ms=encoded.duration_ms,
                bitrate_kbps=round(encoded.audio_bytes * 8 / max(encoded.duration_ms, 1)),
                sample_rate=48000,
                channels=encoded.channels,
            )
    except BadAudio as exc:
        return _quarantine(job, archive, data, str(exc), out)
    patch = make_patch(archived, data) if job.action == "keep" else None
    out.write(archive.track_path(job.batch, job.track_id, ext), archived)
    if patch is not None:
        out.write(archive.patch_path(job.batch, job.track_id), patch)
    return _record(
        job,
        status="done",
        ext=ext,
        size=len(archived),
        sha256=hashlib.sha256(archived).hexdigest(),
        sha256_original=hashlib.sha256(data).hexdigest(),
        size_original=len(data),
        patch_size=None if patch is None else len(patch),
        warning=warning,
        **values,
    )


def _failed(job: TrackJob, exc: Exception) -> dict[str, Any]:
    return _record(job, status="failed", error=f"{type(exc).__name__}: {exc}")


def process_chunk(jobs: list[TrackJob]) -> list[dict[str, Any]]:
    """Process each track of ``jobs`` (the pure per-track work, run by every executor); their files
    appear together, and an error fails only its track(s)."""
    reuse_freed_memory()
    records = []
    try:
        with AtomicBatch() as out:
            for job in jobs:
                try:
                    records.append(_process(job, out))
                except Exception as exc:  # an I/O error or a bug must not stop the other tracks
                    records.append(_failed(job, exc))
    except Exception as exc:  # the files could not be synced or renamed: none is known to be safe
        return [_failed(job, exc) for job in jobs]
    return records


def crashed_record(job: TrackJob, error: BaseException) -> dict[str, Any]:
    """The record of a track whose worker process died (it stays planned and is retried)."""
    return _record(
        job,
        status="failed",
        error=f"worker process died while processing {job.source or job.track_id} ({error})",
    )
