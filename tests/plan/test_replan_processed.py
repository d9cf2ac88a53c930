"""Re-planning after `musark process` made files: started batches keep them, leavers are removed."""

from __future__ import annotations

from pathlib import Path

from musark.archive import Archive
from musark.media.synth import write_audio
from musark.plan.planner import PlanRequest, run_plan
from tests.plan.conftest import query

SECONDS = 1.5


def plan(archive, **kw):
    return run_plan(archive, PlanRequest(**kw), show_progress=False)


def sources(archive: Archive, src: Path) -> None:
    """Short generated FLAC sources for every catalogued track that has none yet."""
    query(archive, "UPDATE tracks SET duration_ms = ?", [int(SECONDS * 1000)])
    src.mkdir(exist_ok=True)
    for n, (tid,) in enumerate(query(archive, "SELECT id FROM tracks ORDER BY id")):
        if not (src / f"{tid}.flac").exists():
            write_audio(src / f"{tid}.flac", SECONDS, seed=n)


def done_rows(archive: Archive) -> dict[str, tuple]:
    """{track_id: (batch, seq_in_batch, tier, ext, sha256)} of every processed file."""
    return {
        r[0]: r[1:]
        for r in query(
            archive,
            "SELECT track_id, batch, seq_in_batch, tier, ext, sha256 FROM track_files "
            "WHERE status = 'done'",
        )
    }


def files_on_disk(archive: Archive) -> set[tuple[str, str]]:
    """(batch, file name) of every archived file and patch under files/ and patches/."""
    found = {(p.parent.parent.name, p.name) for p in archive.files_dir.glob("*/data/*")}
    return found | {(p.parent.name, p.name) for p in archive.patches_dir.glob("*/*")}


def expected_files(archive: Archive) -> set[tuple[str, str]]:
    """What files/ and patches/ must hold: the files and patches of the 'done' rows."""
    rows = query(
        archive,
        "SELECT batch, track_id, ext, patch_size FROM track_files WHERE status = 'done'",
    )
    return {(b, f"{t}.{e}") for b, t, e, _ in rows} | {
        (b, f"{t}.zstdpatch") for b, t, _, p in rows if p is not None
    }


def test_processed_files_stay_in_their_batch_and_leavers_lose_their_files(
    archive, catalogue, cli, tmp_path
):
    catalogue(archive, 40)
    src = tmp_path / "src"
    sources(archive, src)
    plan(archive, batch_size=5)
    for batch in ("keep__0001", "opus75__0001"):
        report = cli.json(
            "process", "--archive", archive.root, "--source", src, "--batch", batch,
            "--workers", "1",
        )  # fmt: skip
        assert report["done"] == 5, report
    before = done_rows(archive)
    assert {r[0] for r in before.values()} == {"keep__0001", "opus75__0001"}
    assert files_on_disk(archive) == expected_files(archive)

    # A rights-holder request hits a processed keep file, a processed opus75 track becomes
    # popular (its tier changes), and more popular tracks arrive than keep__0001 holds: without
    # started batches they would renumber keep__0001 and strand its files.
    excluded = min(t for t, r in before.items() if r[0] == "keep__0001")
    retiered = min(t for t, r in before.items() if r[0] == "opus75__0001")
    (tmp_path / "rights.txt").write_text(f"track:{excluded}\n")
    query(archive, "UPDATE tracks SET popularity = 30 WHERE id = ?", [retiered])
    catalogue(archive, 10, start=40, seed=1)
    query(
        archive,
        "UPDATE tracks SET popularity = 100 WHERE id IN (SELECT 't' || i FROM range(40, 50) r(i))",
    )
    sources(archive, src)
    s = plan(archive, batch_size=5, exclude=[tmp_path / "rights.txt"])

    after = done_rows(archive)
    assert after == {t: r for t, r in before.items() if t not in (excluded, retiered)}
    assert s["started_batches"] == 2 and s["stale_files_removed"] == 2
    assert query(archive, "SELECT status FROM track_files WHERE track_id = ?", [excluded]) == [
        ("excluded",)
    ]
    ((tier, batch),) = query(
        archive, "SELECT tier, batch FROM track_files WHERE track_id = ?", [retiered]
    )
    assert tier == "keep" and batch not in ("keep__0001", "opus75__0001")
    # nothing new enters a started batch: new files go to batches numbered after it
    assert query(
        archive,
        "SELECT status, count(*) FROM track_files WHERE batch IN ('keep__0001', 'opus75__0001') "
        "GROUP BY status",
    ) == [("done", 8)]
    new_batches = query(
        archive,
        "SELECT DISTINCT batch FROM track_files WHERE track_id IN (SELECT 't' || i FROM range(40, 50) r(i)) "
        "AND batch IS NOT NULL",
    )
    assert new_batches and all(b > "keep__0001" for (b,) in new_batches)
    # the folders hold exactly the files the catalogue knows: nothing orphaned
    assert files_on_disk(archive) == expected_files(archive)

    # the rest is processed into the new batches; a same-input re-plan then changes nothing
    report = cli.json("process", "--archive", archive.root, "--source", src, "--workers", "1")
    assert report["quarantined"] == report["failed"] == 0
    assert query(archive, "SELECT count(*) FROM track_files WHERE status = 'planned'") == [(0,)]
    assert files_on_disk(archive) == expected_files(archive)
    finished = done_rows(archive)
    again = plan(archive, batch_size=5, exclude=[tmp_path / "rights.txt"])
    assert again["changes"]["tracks"] == 0 and again["changes"]["moved_batch"] == 0
    assert done_rows(archive) == finished
    assert files_on_disk(archive) == expected_files(archive)


def test_files_in_an_unsynced_batch_folder_make_it_started(archive, catalogue):
    """A killed `process` may leave files whose results are only in its ledger yet."""
    catalogue(archive, 40)
    plan(archive, batch_size=5)
    ((track, seq),) = query(
        archive, "SELECT track_id, seq_in_batch FROM track_files WHERE batch = 'keep__0002'"
        " ORDER BY seq_in_batch LIMIT 1",
    )  # fmt: skip
    archive.batch_data_dir("keep__0002").mkdir(parents=True)
    (archive.batch_data_dir("keep__0002") / f"{track}.flac").write_bytes(b"made")
    catalogue(archive, 10, start=40, seed=1)
    query(
        archive,
        "UPDATE tracks SET popularity = 100 WHERE id IN (SELECT 't' || i FROM range(40, 50) r(i))",
    )
    s = plan(archive, batch_size=5)
    assert s["started_batches"] == 1
    assert query(
        archive, "SELECT batch, seq_in_batch FROM track_files WHERE track_id = ?", [track]
    ) == [("keep__0002", seq)]


def test_stale_files_of_a_plan_killed_after_its_commit_are_removed_by_the_next(archive, catalogue):
    catalogue(archive, 40)
    plan(archive, batch_size=5)
    stale = archive.track_path("keep__0001", "t1", "ogg")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    patch = archive.patch_path("keep__0001", "t1")
    patch.parent.mkdir(parents=True)
    patch.write_bytes(b"patch")
    query(archive, "INSERT INTO plan_stale_files VALUES ('keep__0001', 't1', 'ogg')")
    s = plan(archive, batch_size=5)
    assert not stale.exists() and not patch.exists()
    assert query(archive, "SELECT count(*) FROM plan_stale_files") == [(0,)]
    assert s["stale_files_removed"] == 0  # removed before planning, by the first step
