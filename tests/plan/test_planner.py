"""`musark plan`: selection under a budget or a coverage target, tiers, ISRC dedup and batches."""

from __future__ import annotations

import itertools
import math
import re

import duckdb
import pytest

from musark.plan.model import features_sql
from musark.plan.planner import PlanRequest, batch_name, batch_name_sql, run_plan
from musark.plan.settings import plan_settings
from tests.plan.conftest import N_TRACKS, query

GB = 10**9


def plan(archive, **kw):
    return run_plan(archive, PlanRequest(**kw), show_progress=False)


def file_rows(archive):
    """{track_id: (batch, seq_in_batch, tier, est_bytes)} of every planned file."""
    return {
        r[0]: r[1:]
        for r in query(
            archive,
            "SELECT track_id, batch, seq_in_batch, tier, est_bytes FROM track_files "
            "WHERE batch IS NOT NULL",
        )
    }


def test_without_limit_every_tiered_track_is_a_file_or_a_dedup(cat_archive):
    s = plan(cat_archive)
    assert s["mode"] == "all"
    counts = dict(query(cat_archive, "SELECT status, count(*) FROM track_files GROUP BY status"))
    assert counts["planned"] + counts["dedup"] == N_TRACKS
    assert s["selected"]["coverage_pct"] == pytest.approx(100.0)
    assert s["model"]["kind"] == "popularity_curve"
    # popularity >= 1 keeps the original, popularity 0 is re-encoded (the default tiers)
    tiers = dict(
        query(
            cat_archive,
            "SELECT tf.tier, min(t.popularity) || '-' || max(t.popularity) FROM track_files tf "
            "JOIN tracks t ON t.id = tf.track_id GROUP BY tf.tier",
        )
    )
    assert tiers["opus75"] == "0-0"
    assert tiers["keep"].startswith("1-")
    codecs = dict(
        query(
            cat_archive,
            "SELECT tier, any_value(codec) FROM track_files WHERE batch IS NOT NULL GROUP BY tier",
        )
    )
    assert codecs == {"keep": "keep", "opus75": "opus"}


@pytest.mark.parametrize("budget_gb", [1, 7, 25])
def test_budget_is_respected_and_nearly_filled(cat_archive, budget_gb):
    s = plan(cat_archive, budget_bytes=budget_gb * GB)
    files = file_rows(cat_archive)
    used = sum(r[3] for r in files.values())
    assert used == s["selected"]["bytes"] <= budget_gb * GB
    biggest = max(r[3] for r in files.values())
    # greedy prefix: stops at the first unit that does not fit
    assert used > budget_gb * GB - 20 * biggest


def test_coverage_is_monotone_in_budget_and_selections_nest(cat_archive):
    previous_cov, previous_set = -1.0, set()
    for budget in (0.5, 1, 2, 4, 8, 16, 32, 64):
        s = plan(cat_archive, budget_bytes=int(budget * GB))
        chosen = set(file_rows(cat_archive))
        assert s["selected"]["coverage_pct"] >= previous_cov
        assert chosen >= previous_set
        previous_cov, previous_set = s["selected"]["coverage_pct"], chosen
    assert previous_cov == pytest.approx(100.0)


def test_coverage_target_takes_the_fewest_bytes_that_reach_it(cat_archive):
    s = plan(cat_archive, coverage=99.0)
    assert s["mode"] == "coverage"
    assert s["selected"]["coverage_pct"] >= 99.0
    # the reference shape: far fewer files than tracks reach 99 % of listening
    assert s["selected"]["files_pct"] < 40
    tighter = plan(cat_archive, coverage=95.0)
    assert tighter["selected"]["bytes"] < s["selected"]["bytes"]


def test_budget_and_coverage_together_is_an_error(cat_archive):
    with pytest.raises(ValueError, match="not both"):
        plan(cat_archive, budget_bytes=GB, coverage=90.0)


def test_popular_tracks_are_chosen_before_the_long_tail(cat_archive):
    plan(cat_archive, budget_bytes=3 * GB)
    kept_pop, dropped_pop = query(
        cat_archive,
        "SELECT avg(t.popularity) FILTER (WHERE tf.track_id IS NOT NULL), "
        "       avg(t.popularity) FILTER (WHERE tf.track_id IS NULL) "
        "FROM tracks t LEFT JOIN (SELECT track_id FROM track_files WHERE batch IS NOT NULL) tf "
        "ON tf.track_id = t.id",
    )[0]
    assert kept_pop > 5 * dropped_pop


def test_isrc_dedup_keeps_one_file_per_isrc_in_the_opus_tier(cat_archive):
    s = plan(cat_archive)
    per_isrc = query(
        cat_archive,
        "SELECT t.isrc, count(*) FILTER (WHERE tf.batch IS NOT NULL) AS files, "
        "count(*) FILTER (WHERE tf.status = 'dedup') AS dups "
        "FROM track_files tf JOIN tracks t ON t.id = tf.track_id "
        "WHERE tf.tier = 'opus75' AND t.isrc IS NOT NULL GROUP BY t.isrc",
    )
    assert all(files == 1 for _, files, _ in per_isrc)
    assert sum(d for *_, d in per_isrc) == s["tiers"][1]["dedup"] > 100
    # every dedup row: no batch, points at a planned file of the same ISRC in the same tier
    bad = query(
        cat_archive,
        "SELECT d.track_id FROM track_files d JOIN tracks td ON td.id = d.track_id "
        "LEFT JOIN track_files f ON f.track_id = d.dedup_of AND f.batch IS NOT NULL "
        "LEFT JOIN tracks tf ON tf.id = f.track_id "
        "WHERE d.status = 'dedup' AND (d.batch IS NOT NULL OR f.track_id IS NULL "
        "OR tf.isrc <> td.isrc OR f.tier <> d.tier)",
    )
    assert bad == []
    # the keep tier does not dedup: duplicate ISRCs there stay separate files
    (keep_dups,) = query(
        cat_archive,
        "SELECT count(*) FROM (SELECT t.isrc FROM track_files tf JOIN tracks t ON t.id = tf.track_id "
        "WHERE tf.tier = 'keep' AND tf.batch IS NOT NULL AND t.isrc IS NOT NULL "
        "GROUP BY t.isrc HAVING count(*) > 1)",
    )[0]
    assert keep_dups > 0


def test_dedup_prefers_the_track_with_source_audio_then_most_listens(cat_archive):
    # two popularity-0 tracks sharing an ISRC: only the second one has a source file
    query(
        cat_archive,
        "INSERT INTO tracks (id, name, duration_ms, isrc, popularity) VALUES "
        "('dupA', 'a', 200000, 'QZDUP0000001', 0), ('dupB', 'b', 100000, 'QZDUP0000001', 0), "
        "('dupC', 'c', 300000, 'QZDUP0000002', 0), ('dupD', 'd', 100000, 'QZDUP0000002', 0)",
    )
    query(cat_archive, "INSERT INTO track_audio VALUES ('dupB', '/music/b.flac', 12345, 0)")
    plan(cat_archive)
    rows = dict(
        query(
            cat_archive,
            "SELECT track_id, coalesce(dedup_of, batch) FROM track_files WHERE track_id LIKE 'dup%'",
        )
    )
    assert rows["dupA"] == "dupB" and rows["dupB"].startswith("opus75__")
    # no audio on either: equal listens and scores, so the longer recording wins
    assert rows["dupD"] == "dupC" and rows["dupC"].startswith("opus75__")


@pytest.mark.parametrize("batch_size", [1000, 3333])
def test_batches_are_full_except_the_last_and_in_popularity_order(cat_archive, batch_size):
    plan(cat_archive, batch_size=batch_size)
    batches = query(
        cat_archive,
        "SELECT name, tier, seq, status, num_files, popularity_min, popularity_max "
        "FROM batches ORDER BY tier, seq",
    )
    for tier in ("keep", "opus75"):
        mine = [b for b in batches if b[1] == tier]
        assert [b[2] for b in mine] == list(range(1, len(mine) + 1))
        assert all(
            b[0] == batch_name(tier, b[2]) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", b[0])
            for b in mine
        )
        assert all(b[4] == batch_size for b in mine[:-1]) and 0 < mine[-1][4] <= batch_size
        assert all(b[3] == "planned" for b in mine)
        # popularity never increases from one batch to the next
        assert all(a[5] >= b[6] for a, b in itertools.pairwise(mine))
    counts = query(
        cat_archive,
        "SELECT b.name, b.num_files, count(tf.track_id), min(tf.seq_in_batch), max(tf.seq_in_batch) "
        "FROM batches b JOIN track_files tf ON tf.batch = b.name GROUP BY ALL",
    )
    assert all(n == m and lo == 0 and hi == n - 1 for _, n, m, lo, hi in counts)
    # inside a batch, seq_in_batch follows descending popularity
    inversions = query(
        cat_archive,
        "SELECT count(*) FROM (SELECT t.popularity - lead(t.popularity) OVER "
        "(PARTITION BY tf.batch ORDER BY tf.seq_in_batch) AS d FROM track_files tf "
        "JOIN tracks t ON t.id = tf.track_id WHERE tf.batch IS NOT NULL) WHERE d < 0",
    )[0][0]
    assert inversions == 0


def test_replanning_unchanged_input_is_identical(cat_archive):
    plan(cat_archive, budget_bytes=5 * GB, batch_size=500)
    first = query(cat_archive, "SELECT * FROM track_files ORDER BY track_id")
    s = plan(cat_archive, budget_bytes=5 * GB, batch_size=500)
    assert query(cat_archive, "SELECT * FROM track_files ORDER BY track_id") == first
    assert s["changes"]["tracks"] == 0 and s["changes"]["moved_batch"] == 0


def test_streams_replace_the_popularity_curve_when_present(archive, catalogue):
    catalogue(archive, 5000, streams=True)
    s = plan(archive)
    assert s["model"]["kind"] == "streams"
    assert s["catalogue"]["listens"] == query(archive, "SELECT sum(streams) FROM tracks")[0][0]
    query(archive, "UPDATE tracks SET streams = NULL WHERE id IN ('t1', 't2')")
    assert plan(archive)["model"]["kind"] == "mixed"


def test_unknown_popularity_goes_to_the_configured_tier(cat_archive):
    query(cat_archive, "UPDATE tracks SET popularity = NULL WHERE id IN ('t5', 't6')")
    plan(cat_archive)
    assert set(
        query(cat_archive, "SELECT tier FROM track_files WHERE track_id IN ('t5', 't6')")
    ) == {("keep",)}
    cat_archive.config_path.write_text(
        cat_archive.config_path.read_text().replace(
            'unknown_popularity_tier = "keep"', 'unknown_popularity_tier = "opus75"'
        )
    )
    fresh = type(cat_archive)(cat_archive.root)  # settings are cached per Archive object
    plan(fresh)
    assert set(query(fresh, "SELECT tier FROM track_files WHERE track_id IN ('t5', 't6')")) == {
        ("opus75",)
    }


def test_secondary_cut_off_drops_low_scoring_long_tail(cat_archive):
    cat_archive.config_path.write_text(
        cat_archive.config_path.read_text().replace(
            "secondary_min_score = 0.0", "secondary_min_score = 0.4"
        )
    )
    s = plan(cat_archive)
    assert s["below_secondary_cutoff"] > 1000
    # only popularity-0 tracks are cut, and only those whose artist/album score is low
    (max_artist_pop,) = query(
        cat_archive,
        "SELECT max(ar.popularity) FROM tracks t JOIN track_artists ta ON ta.track_id = t.id "
        "AND ta.position = 0 JOIN artists ar ON ar.id = ta.artist_id "
        "WHERE t.id NOT IN (SELECT track_id FROM track_files) AND t.popularity = 0",
    )[0]
    assert max_artist_pop < 60
    assert (
        query(
            cat_archive,
            "SELECT count(*) FROM tracks WHERE popularity > 0 AND id NOT IN (SELECT track_id FROM track_files)",
        )[0][0]
        == 0
    )


def test_listens_model_reproduces_the_reference_shape(archive, catalogue):
    # ~70 % at popularity 0, ~0.1 % at >= 50: most tracks are barely heard, and keeping the most
    # listened ~37 % of tracks covers ~99.6 % of listening.
    catalogue(archive, 100_000)
    from musark.plan.report import run_report

    numbers = run_report(archive, archive.root / "r", show_progress=False)
    cat = numbers["catalogue"]
    assert cat["tracks_under_1000_listens_pct"] >= 70
    assert cat["coverage_pct_top_37pct_tracks"] == pytest.approx(99.6, abs=0.25)
    assert cat["top3_share_pct"] > 10


def test_real_source_size_replaces_the_estimate_in_a_keep_tier(cat_archive):
    (tid,) = query(cat_archive, "SELECT id FROM tracks WHERE popularity > 30 ORDER BY id LIMIT 1")[
        0
    ]
    query(cat_archive, "INSERT INTO track_audio VALUES (?, '/music/x.ogg', 3210987, 0)", [tid])
    plan(cat_archive)
    assert query(cat_archive, "SELECT est_bytes FROM track_files WHERE track_id = ?", [tid]) == [
        (3210987,)
    ]
    # an estimate otherwise: duration x kbps x 125 x 1.01 + 65536
    (other, dur) = query(
        cat_archive,
        "SELECT t.id, t.duration_ms FROM tracks t JOIN track_files f ON f.track_id = t.id "
        "WHERE f.tier = 'keep' AND t.id <> ? ORDER BY t.id LIMIT 1",
        [tid],
    )[0]
    (est,) = query(cat_archive, "SELECT est_bytes FROM track_files WHERE track_id = ?", [other])[0]
    assert est == math.ceil(dur / 1000 * 160 * 125 * 1.01) + 65536


def test_plan_through_synth_catalog_and_ingest(archive, cli, tmp_path):
    dump = tmp_path / "dump.jsonl"
    cli("synth", "catalog", dump, "--tracks", "1500")
    cli("ingest", dump, "--archive", archive.root)
    s = cli.json("plan", "--archive", archive.root, "--coverage", "99", "--batch-size", "300")
    assert s["model"]["kind"] in ("mixed", "streams", "popularity_curve")
    assert s["selected"]["coverage_pct"] >= 99.0
    assert s["catalogue"]["tracks"] == 1500
    sizes = query(archive, "SELECT num_files FROM batches ORDER BY tier, seq")
    assert sizes and all(0 < n <= 300 for (n,) in sizes)
    n = cli.json("report", "--archive", archive.root)
    assert n["plan"]["files"] == s["selected"]["files"]


@pytest.mark.parametrize("streams", [False, True])
def test_files_are_numbered_by_popularity_then_listens_then_id(archive, catalogue, streams):
    catalogue(archive, 6000, streams=streams)
    plan(archive, batch_size=700)
    features = features_sql(plan_settings(archive.settings))
    numbered = query(
        archive,
        f"""
        SELECT tf.tier, list(tf.track_id ORDER BY b.seq, tf.seq_in_batch) AS planned,
               list(tf.track_id ORDER BY f.popularity DESC NULLS LAST, f.listens DESC,
                    tf.track_id) AS documented
        FROM track_files tf JOIN batches b ON b.name = tf.batch
        JOIN ({features}) f ON f.track_id = tf.track_id
        GROUP BY tf.tier
        """,
    )
    assert {r[0] for r in numbered} == {"keep", "opus75"}
    for tier, planned, documented in numbered:
        assert planned == documented, tier


def test_batch_names_in_sql_match_the_python_scheme():
    seqs = [1, 42, 9999, 10000, 123456]
    con = duckdb.connect()
    got = con.execute(
        f"SELECT s, {batch_name_sql('t', 's')} FROM (SELECT 'opus75' AS t, unnest(?) AS s)",
        [seqs],
    ).fetchall()
    assert dict(got) == {s: batch_name("opus75", s) for s in seqs}
