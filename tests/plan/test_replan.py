"""Re-planning: released batches are frozen, new material appends, processed files keep their results."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

from musark.plan.planner import PlanRequest, run_plan
from tests.plan.conftest import query

GB = 10**9


def plan(archive, **kw):
    return run_plan(archive, PlanRequest(**kw), show_progress=False)


def release(archive, *names):
    """What the release stage does to a batch."""
    query(
        archive,
        "UPDATE batches SET status = 'released', released_at = TIMESTAMP '2026-01-01' "
        "WHERE list_contains(?, name)",
        [list(names)],
    )


def frozen_rows(archive, names):
    return query(
        archive,
        "SELECT * FROM track_files WHERE list_contains(?, batch) ORDER BY batch, seq_in_batch",
        [list(names)],
    )


def test_released_batches_never_change_across_catalogue_and_budget_changes(cat_archive, catalogue):
    plan(cat_archive, budget_bytes=20 * GB, batch_size=1000)
    released = ["keep__0001", "keep__0002", "opus75__0001"]
    release(cat_archive, *released)
    before = frozen_rows(cat_archive, released)
    batches_before = query(
        cat_archive, "SELECT * FROM batches WHERE status = 'released' ORDER BY name"
    )
    assert {r[1] for r in before} == set(released) and len(before) > 2500

    # popularity changes (some released tracks fall to 0, some unreleased ones jump to 100),
    # new tracks arrive, and the budget grows
    query(
        cat_archive,
        "UPDATE tracks SET popularity = 0 WHERE id IN (SELECT track_id FROM track_files WHERE batch = 'keep__0001' LIMIT 50)",
    )
    query(
        cat_archive, "UPDATE tracks SET popularity = 100 WHERE popularity = 0 AND hash(id) % 50 = 0"
    )
    catalogue(cat_archive, 5000, start=20000, seed=1)
    s = plan(cat_archive, budget_bytes=30 * GB, batch_size=700)

    assert frozen_rows(cat_archive, released) == before
    assert (
        query(cat_archive, "SELECT * FROM batches WHERE status = 'released' ORDER BY name")
        == batches_before
    )
    # a track lives in at most one batch, and nothing new lands in a released batch
    assert (
        query(cat_archive, "SELECT track_id FROM track_files GROUP BY track_id HAVING count(*) > 1")
        == []
    )
    # new batches are numbered after the released ones of their tier
    planned = query(
        cat_archive, "SELECT tier, min(seq) FROM batches WHERE status = 'planned' GROUP BY tier"
    )
    assert dict(planned) == {"keep": 3, "opus75": 2}
    # the budget covers the released batches too
    assert s["selected"]["bytes"] <= 30 * GB
    assert s["released_bytes"] == sum(r[6] for r in before)
    # status changes are reported (and recorded in plan_changes)
    assert s["changes"]["by_transition"].get("planned->unplanned", 0) > 0
    assert s["changes"]["by_transition"].get("unplanned->planned", 0) > 0
    (n_changes,) = query(cat_archive, "SELECT count(*) FROM plan_changes")[0]
    assert n_changes == s["changes"]["tracks"]


def test_budget_smaller_than_released_is_flagged_and_plans_nothing_new(cat_archive):
    plan(cat_archive, batch_size=2000)
    release(cat_archive, "keep__0001", "keep__0002")
    s = plan(cat_archive, budget_bytes=1 * GB, batch_size=2000)
    assert s["over_budget"]
    assert (
        query(
            cat_archive,
            "SELECT count(*) FROM track_files WHERE status = 'planned' AND batch NOT IN ('keep__0001', 'keep__0002')",
        )[0][0]
        == 0
    )


def test_dedup_onto_a_released_recording(cat_archive):
    plan(cat_archive, batch_size=1000)
    release(cat_archive, "opus75__0001")
    # a new popularity-0 track with the ISRC of a released file is not planned again
    rep, isrc = query(
        cat_archive,
        "SELECT tf.track_id, t.isrc FROM track_files tf JOIN tracks t ON t.id = tf.track_id "
        "WHERE tf.batch = 'opus75__0001' AND t.isrc IS NOT NULL ORDER BY tf.track_id LIMIT 1",
    )[0]
    query(
        cat_archive,
        "INSERT INTO tracks (id, name, duration_ms, isrc, popularity) VALUES ('late1', 'x', 999999, ?, 0)",
        [isrc],
    )
    plan(cat_archive, batch_size=1000)
    assert query(
        cat_archive, "SELECT status, batch, dedup_of FROM track_files WHERE track_id = 'late1'"
    ) == [("dedup", None, rep)]


def test_processed_columns_survive_replanning(cat_archive):
    plan(cat_archive, budget_bytes=5 * GB, batch_size=1000)
    # what `process` records for a finished file and a quarantined one
    query(
        cat_archive,
        "UPDATE track_files SET status = 'done', codec = 'vorbis', ext = 'ogg', size = 4242, "
        "sha256 = repeat('a', 64), processed_at = TIMESTAMP '2026-01-02', "
        "warning = 'cover skipped: not an image' "
        "WHERE batch = 'keep__0001' AND seq_in_batch < 10",
    )
    query(
        cat_archive,
        "UPDATE track_files SET status = 'quarantined', error = 'unreadable' "
        "WHERE batch = 'keep__0001' AND seq_in_batch = 10",
    )
    before = query(
        cat_archive,
        "SELECT * EXCLUDE (est_bytes) FROM track_files WHERE batch = 'keep__0001' AND seq_in_batch <= 10 ORDER BY seq_in_batch",
    )
    s = plan(cat_archive, budget_bytes=5 * GB, batch_size=1000)
    after = query(
        cat_archive,
        "SELECT * EXCLUDE (est_bytes) FROM track_files WHERE batch = 'keep__0001' AND seq_in_batch <= 10 ORDER BY seq_in_batch",
    )
    assert after == before
    # the real size of a processed file replaces its estimate
    assert query(
        cat_archive, "SELECT DISTINCT est_bytes FROM track_files WHERE status = 'done'"
    ) == [(4242,)]
    # the space this freed is given to more tracks; nothing processed changed status
    assert set(s["changes"]["by_transition"]) <= {"unplanned->planned", "unplanned->dedup"}


def test_killed_plan_leaves_old_or_new_plan_and_rerun_finishes(archive, catalogue, tmp_path):
    catalogue(archive, 100_000)
    plan(archive, batch_size=1000)
    old = query(archive, "SELECT * FROM track_files ORDER BY track_id")
    # the same catalogue planned cleanly elsewhere gives the expected new plan
    twin = type(archive)(tmp_path / "twin")
    shutil.copytree(archive.root, twin.root)
    plan(twin, batch_size=700)
    new = query(twin, "SELECT * FROM track_files ORDER BY track_id")
    assert new != old
    args = [
        sys.executable,
        "-m",
        "musark",
        "plan",
        "--batch-size",
        "700",
        "--archive",
        str(archive.root),
    ]
    for delay in (0.8, 1.5, 2.5):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = query(archive, "SELECT * FROM track_files ORDER BY track_id")
        assert state in (old, new)
    plan(archive, batch_size=700)
    assert query(archive, "SELECT * FROM track_files ORDER BY track_id") == new
