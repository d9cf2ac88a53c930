"""Synthetic dumps: deterministic, realistic shape, and malformed rows of every rejectable kind."""

from __future__ import annotations

import duckdb
import pytest

from musark.catalog.synth import BAD_KINDS, synth_catalog
from tests.catalog.conftest import rows


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "clean.jsonl.zst"
    synth_catalog(path, 20000, seed=11, show_progress=False)
    return path


def _q(path, sql):
    con = duckdb.connect()
    try:
        return con.execute(
            sql.replace("DUMP", f"read_json('{path}', format = 'newline_delimited')")
        ).fetchall()
    finally:
        con.close()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = synth_catalog(tmp_path / "a.jsonl", 1500, seed=3, bad_rate=0.05, show_progress=False)
    b = synth_catalog(tmp_path / "b.jsonl", 1500, seed=3, bad_rate=0.05, show_progress=False)
    c = synth_catalog(tmp_path / "c.jsonl", 1500, seed=4, bad_rate=0.05, show_progress=False)
    assert a["tracks"] == b["tracks"] == 1500
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
    assert c["tracks"] == 1500
    assert len((tmp_path / "a.jsonl").read_bytes().splitlines()) == 1500


def test_chunking_does_not_change_the_output(tmp_path):
    synth_catalog(tmp_path / "a.jsonl", 3000, seed=5, chunk_albums=37, show_progress=False)
    synth_catalog(tmp_path / "b.jsonl", 3000, seed=5, chunk_albums=100000, show_progress=False)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_popularity_is_heavy_tailed(dump):
    [(n, zero, high)] = _q(
        dump,
        "SELECT count(*), count(*) FILTER (popularity = 0), count(*) FILTER (popularity >= 50) FROM DUMP",
    )
    assert n == 20000
    assert 0.65 < zero / n < 0.75
    assert 0 < high / n < 0.005


def test_albums_hold_1_to_30_tracks_and_some_tracks_have_several_artists(dump):
    [(lo, hi, singles)] = _q(
        dump,
        """
        SELECT min(t), max(t), count(*) FILTER (t = 1) FROM (
            SELECT max(album.total_tracks) AS t FROM DUMP GROUP BY album.id)""",
    )
    assert lo == 1 and hi <= 30 and singles > 0
    [(multi,)] = _q(dump, "SELECT count(*) FROM DUMP WHERE len(artists) > 1")
    assert 0.05 < multi / 20000 < 0.3


def test_isrcs_repeat_across_releases_and_names_are_unicode(dump):
    [(shared,)] = _q(
        dump,
        """
        SELECT count(*) FROM (
            SELECT isrc FROM (SELECT upper(replace(external_ids.isrc, '-', '')) AS isrc, album.id AS a
                              FROM DUMP) GROUP BY isrc HAVING count(DISTINCT a) > 1)""",
    )
    assert shared > 10
    [(cjk, accented)] = _q(
        dump,
        r"""
        SELECT count(*) FILTER (regexp_matches(name, '[\x{3040}-\x{30ff}\x{4e00}-\x{9fff}\x{ac00}-\x{d7af}]')),
               count(*) FILTER (regexp_matches(name, '[à-ÿÀ-ß]')) FROM DUMP""",
    )
    assert cjk > 100 and accented > 100


def test_albums_have_images_copyrights_and_some_tracks_streams(dump):
    [(imgs, cp, streams)] = _q(
        dump,
        """
        SELECT min(len(album.images)), count(*) FILTER (len(album.copyrights) = 2),
               count(streams) FROM DUMP""",
    )
    assert imgs == 3 and cp == 20000 and 0 < streams < 20000


def test_bad_rows_cover_every_reason_the_validator_has(tmp_path, archive, run_ingest):
    path = synth_catalog(
        tmp_path / "bad.jsonl.gz", 4000, seed=2, bad_rate=0.1, show_progress=False
    )["path"]
    result = run_ingest(path)
    reasons = {r for (r,) in rows(archive, "SELECT DISTINCT reason FROM rejects")}
    assert reasons == set(BAD_KINDS)
    assert 0.07 < result["rejected"] / 4000 < 0.13
    assert result["ingested"] + result["rejected"] == 4000


def test_cli_writes_a_dump(tmp_path, cli):
    out = cli.json(
        "synth",
        "catalog",
        tmp_path / "x.jsonl.zst",
        "--tracks",
        "500",
        "--seed",
        "9",
        "--bad-rate",
        "0.01",
    )
    assert out["tracks"] == 500
    assert (tmp_path / "x.jsonl.zst").stat().st_size > 1000
