"""Exclusions (rights-holder requests): never selected, and reported when already released."""

from __future__ import annotations

import pytest

from musark.plan.exclusions import parse_exclusions
from musark.plan.planner import PlanRequest, run_plan
from tests.plan.conftest import query


def plan(archive, **kw):
    return run_plan(archive, PlanRequest(**kw), show_progress=False)


# each kind, and the SQL finding the tracks it must hit in the fixture catalogue
KINDS = {
    "track": ("t123", "SELECT id FROM tracks WHERE id = 't123'"),
    "isrc": ("QZ-SYN-0000300", "SELECT id FROM tracks WHERE isrc = 'QZSYN0000300'"),
    "artist": ("ar7", "SELECT track_id FROM track_artists WHERE artist_id = 'ar7'"),
    "album": ("al42", "SELECT id FROM tracks WHERE album_id = 'al42'"),
    "label": (
        "label 5",
        "SELECT t.id FROM tracks t JOIN albums a ON a.id = t.album_id WHERE a.label = 'Label 5'",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_exclusion_is_never_selected(cat_archive, tmp_path, kind):
    value, hits_sql = KINDS[kind]
    hits = {r[0] for r in query(cat_archive, hits_sql)}
    assert hits, "the fixture must contain tracks to exclude"
    excl = tmp_path / "rights.txt"
    excl.write_text(f"# request 2026-01\n\n{kind}:{value}\n")
    s = plan(cat_archive, exclude=[excl])
    rows = dict(
        query(
            cat_archive,
            "SELECT track_id, status FROM track_files WHERE list_contains(?, track_id) "
            "OR list_contains(?, dedup_of)",
            [sorted(hits), sorted(hits)],
        )
    )
    assert {rows[t] for t in hits} == {"excluded"}
    # nobody is deduplicated onto an excluded track, and excluded tracks have no batch
    assert set(rows) == hits
    assert (
        query(
            cat_archive,
            "SELECT count(*) FROM track_files WHERE status = 'excluded' AND batch IS NOT NULL",
        )[0][0]
        == 0
    )
    assert s["excluded"] == len(hits)
    assert s["new_exclusions"] == 1


def test_exclusions_persist_for_later_plans(cat_archive, tmp_path):
    excl = tmp_path / "rights.txt"
    excl.write_text("track:t1\ntrack:t2\n")
    plan(cat_archive, exclude=[excl])
    s = plan(cat_archive)
    assert s["excluded"] == 2 and s["new_exclusions"] == 0
    assert set(
        query(cat_archive, "SELECT status FROM track_files WHERE track_id IN ('t1', 't2')")
    ) == {("excluded",)}


def test_excluded_track_in_a_released_batch_is_reported_not_hidden(cat_archive, tmp_path):
    plan(cat_archive, batch_size=1000)
    query(cat_archive, "UPDATE batches SET status = 'released' WHERE name = 'keep__0001'")
    victim = query(
        cat_archive,
        "SELECT track_id FROM track_files WHERE batch = 'keep__0001' AND seq_in_batch = 3",
    )[0][0]
    excl = tmp_path / "rights.txt"
    excl.write_text(f"track:{victim}\n")
    s = plan(cat_archive, batch_size=1000, exclude=[excl])
    assert s["excluded_released"] == [
        {"track_id": victim, "batch": "keep__0001", "reason": f"track:{victim}"}
    ]
    # the released batch itself is frozen: its row stays, the report is how the operator learns
    assert query(cat_archive, "SELECT batch FROM track_files WHERE track_id = ?", [victim]) == [
        ("keep__0001",)
    ]


def test_exclusion_file_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("track:t1\nsong:t2\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2: expected 'kind:value'"):
        parse_exclusions(bad)
    bad.write_text("artist:not an id\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: invalid artist id"):
        parse_exclusions(bad)
    with pytest.raises(ValueError, match="cannot read"):
        parse_exclusions(tmp_path / "missing.txt")


def test_bad_exclusion_file_changes_nothing(cat_archive, tmp_path, cli):
    plan(cat_archive)
    before = query(cat_archive, "SELECT * FROM track_files ORDER BY track_id")
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("track:t1\n")
    bad.write_text("label:\n")
    cli("plan", "--archive", cat_archive.root, "--exclude", good, "--exclude", bad, ok=False)
    assert cli.last.exit_code != 0 and "bad.txt:1: empty label" in cli.last.output
    assert query(cat_archive, "SELECT * FROM track_files ORDER BY track_id") == before
    assert query(cat_archive, "SELECT count(*) FROM plan_exclusions")[0][0] == 0
