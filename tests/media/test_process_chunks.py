"""How `process` hands tracks to workers: keep-tier chunks shrinking towards the end, transcodes alone."""

from __future__ import annotations

from musark.media.process import CHUNK_MAX, chunk_jobs
from musark.media.tags import TrackTags
from musark.media.track import TrackJob


def _job(n: int, action: str) -> TrackJob:
    tid = f"t{n:03d}"
    return TrackJob(
        archive_root="/nowhere",
        track_id=tid,
        batch="keep__0001",
        tier=action,
        action=action,
        target_kbps=None,
        source=None,
        source_hint="",
        expected_ms=None,
        tags=TrackTags(track_id=tid, title=tid),
    )


def test_every_job_once_in_order_keep_chunks_shrink_to_single_tracks_at_the_end():
    jobs = [_job(n, "keep") for n in range(200)]
    chunks = list(chunk_jobs(iter(jobs), len(jobs), workers=2))
    assert [j for c in chunks for j in c] == jobs
    sizes = [len(c) for c in chunks]
    assert max(sizes) == CHUNK_MAX and sizes[0] == CHUNK_MAX
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-8:] == [1] * 8  # the last tracks spread over every worker


def test_a_transcode_is_a_chunk_of_its_own():
    jobs = [_job(n, "opus" if n % 3 == 0 else "keep") for n in range(60)]
    chunks = list(chunk_jobs(iter(jobs), len(jobs), workers=2))
    assert sorted(j.track_id for c in chunks for j in c) == [j.track_id for j in jobs]
    assert all(len(c) == 1 for c in chunks if c[0].action == "opus")
    assert all(j.action == "keep" for c in chunks if len(c) > 1 for j in c)
