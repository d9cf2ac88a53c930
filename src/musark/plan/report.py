"""`musark report`: the numbers behind a plan (coverage curves, tiers, popularity, ISRC sharing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from musark.archive import Archive
from musark.console import progress
from musark.fsio import atomic_write_bytes
from musark.plan.db import open_catalog
from musark.plan.model import features_sql, model_kind
from musark.plan.report_render import render_html, render_plots
from musark.plan.settings import plan_settings

CURVE_POINTS = 200
# Reference figures of the shape the default listens model is calibrated to.
REFERENCE_FILES_PCT = 37.0


def default_report_dir(archive: Archive) -> Path:
    """Where `musark report` writes without --out: ARCHIVE/release/report."""
    return archive.release_dir / "report"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _downsampled(cumulative_sql: str, n_sql: str) -> str:
    """Keep ~CURVE_POINTS evenly spaced rows, ~30 per e-fold (for log axes) and the ends."""
    return f"""
        WITH c AS ({cumulative_sql}), n AS ({n_sql})
        SELECT c.* EXCLUDE (rn) FROM c, n
        WHERE rn % greatest(1, n.n // {CURVE_POINTS}) = 0 OR rn = n.n OR rn = 1
           OR (rn > 1 AND floor(ln(rn) * 30) <> floor(ln(rn - 1) * 30))
        ORDER BY rn
    """


def report_numbers(con: duckdb.DuckDBPyConnection, archive: Archive) -> dict[str, Any]:
    """Compute every figure of the report with DuckDB (one feature pass, then aggregates)."""
    ps = plan_settings(archive.settings)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rf AS {features_sql(ps)}")
    total, n_tracks = con.execute("SELECT coalesce(sum(listens), 0), count(*) FROM _rf").fetchall()[
        0
    ]
    total = float(total) or 1.0
    # A file covers its own listens plus those of the tracks deduplicated onto it.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _units AS
        SELECT tf.track_id, tf.tier, coalesce(tf.size, tf.est_bytes, 0) AS bytes,
               coalesce(f.listens, 0) + coalesce(d.listens, 0) AS listens
        FROM track_files tf
        LEFT JOIN _rf f ON f.track_id = tf.track_id
        LEFT JOIN (SELECT t.dedup_of, sum(f2.listens) AS listens FROM track_files t
                   JOIN _rf f2 ON f2.track_id = t.track_id
                   WHERE t.status = 'dedup' GROUP BY t.dedup_of) d ON d.dedup_of = tf.track_id
        WHERE tf.batch IS NOT NULL
        """
    )
    plan_curve = _rows(
        con,
        _downsampled(
            f"""SELECT row_number() OVER o AS rn, row_number() OVER o AS files,
                       sum(bytes) OVER o AS bytes, 100.0 * sum(listens) OVER o / {total!r} AS coverage_pct
                FROM _units WINDOW o AS (ORDER BY listens / greatest(bytes, 1) DESC, track_id
                                         ROWS UNBOUNDED PRECEDING)""",
            "SELECT count(*) AS n FROM _units",
        ),
    )
    catalogue_curve = _rows(
        con,
        _downsampled(
            f"""SELECT row_number() OVER o AS rn, 100.0 * row_number() OVER o / {max(n_tracks, 1)} AS tracks_pct,
                       100.0 * sum(listens) OVER o / {total!r} AS coverage_pct
                FROM _rf WINDOW o AS (ORDER BY listens DESC, track_id ROWS UNBOUNDED PRECEDING)""",
            "SELECT count(*) AS n FROM _rf",
        ),
    )
    k = max(1, round(n_tracks * REFERENCE_FILES_PCT / 100))
    shape = con.execute(
        f"""
        WITH r AS (SELECT listens, row_number() OVER (ORDER BY listens DESC, track_id) AS rn FROM _rf)
        SELECT coalesce(100.0 * sum(listens) FILTER (WHERE rn <= {k}) / {total!r}, 0),
               100.0 * count(*) FILTER (WHERE listens < 1000) / greatest(count(*), 1),
               coalesce(sum(listens) FILTER (WHERE rn <= 3), 0),
               coalesce(100.0 * sum(listens) FILTER (WHERE rn <= 3) / {total!r}, 0)
        FROM r
        """
    ).fetchall()[0]
    tiers = _rows(
        con,
        """
        SELECT tier, count(*) FILTER (WHERE batch IS NOT NULL) AS files,
               coalesce(sum(coalesce(size, est_bytes)) FILTER (WHERE batch IS NOT NULL), 0)::BIGINT AS bytes,
               count(*) FILTER (WHERE status = 'dedup') AS dedup,
               count(*) FILTER (WHERE status = 'excluded') AS excluded
        FROM track_files GROUP BY tier ORDER BY tier
        """,
    )
    popularity = _rows(
        con,
        """
        SELECT f.popularity, count(*) AS tracks, count(tf.track_id) AS files
        FROM _rf f LEFT JOIN (SELECT track_id FROM track_files WHERE batch IS NOT NULL) tf
             ON tf.track_id = f.track_id
        GROUP BY f.popularity ORDER BY f.popularity NULLS LAST
        """,
    )
    isrc = _rows(
        con,
        """
        SELECT least(n, 10) AS tracks_per_isrc, count(*) AS isrcs, sum(n)::BIGINT AS tracks
        FROM (SELECT count(*) AS n FROM tracks WHERE isrc IS NOT NULL GROUP BY isrc)
        GROUP BY ALL ORDER BY tracks_per_isrc
        """,
    )
    files = sum(t["files"] for t in tiers)
    covered = plan_curve[-1]["coverage_pct"] if plan_curve else 0.0
    return {
        "model": model_kind(con),
        "catalogue": {
            "tracks": n_tracks,
            "listens": total,
            "tracks_without_isrc": con.execute(
                "SELECT count(*) FROM tracks WHERE isrc IS NULL"
            ).fetchall()[0][0],
            "coverage_pct_top_37pct_tracks": shape[0],
            "tracks_under_1000_listens_pct": shape[1],
            "top3_listens": shape[2],
            "top3_share_pct": shape[3],
        },
        "plan": {
            "files": files,
            "bytes": sum(t["bytes"] for t in tiers),
            "coverage_pct": covered,
            "files_pct": 100.0 * files / n_tracks if n_tracks else 0.0,
        },
        "tiers": tiers,
        "batches": _rows(
            con,
            "SELECT tier, status, count(*) AS batches, sum(num_files)::BIGINT AS files "
            "FROM batches GROUP BY ALL ORDER BY tier, status",
        ),
        "coverage_curve": plan_curve,
        "catalogue_curve": catalogue_curve,
        "popularity_histogram": popularity,
        "tracks_per_isrc": isrc,
    }


def run_report(
    archive: Archive, out_dir: Path | None = None, *, show_progress: bool | None = None
) -> dict[str, Any]:
    """Write report.json, one PNG per figure and report.html into ``out_dir``; return the numbers."""
    out_dir = Path(out_dir) if out_dir is not None else default_report_dir(archive)
    ps = plan_settings(archive.settings)
    with progress(disable=None if show_progress is None else not show_progress) as prog:
        task = prog.add_task("report: numbers", total=3)
        con = open_catalog(archive, ps, read_only=True)
        try:
            numbers = report_numbers(con, archive)
        finally:
            con.close()
        prog.update(task, advance=1, description="report: plots")
        pngs = render_plots(numbers)
        for name, data in pngs.items():
            atomic_write_bytes(out_dir / name, data)
        prog.update(task, advance=1, description="report: html + json")
        atomic_write_bytes(out_dir / "report.html", render_html(numbers, pngs).encode("utf-8"))
        atomic_write_bytes(
            out_dir / "report.json",
            (json.dumps(numbers, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8"),
        )
        prog.advance(task)
    numbers["files"] = {
        "dir": str(out_dir),
        "html": str(out_dir / "report.html"),
        "json": str(out_dir / "report.json"),
        "plots": [str(out_dir / n) for n in sorted(pngs)],
    }
    return numbers
