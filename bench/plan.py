"""Benchmark `musark plan` against its floor, a bare DuckDB ORDER BY popularity of the same table.

    python bench/plan.py [--tracks 10000000] [--dir DIR] [--repeat 3]
    (or env MUSARK_BENCH_PLAN_TRACKS, MUSARK_BENCH_PLAN_REPEAT)

Generates a synthetic catalogue straight into DuckDB with SQL (70 % popularity 0, ~0.1 % >= 50,
ISRC groups, artists, albums). Each run copies it afresh and measures, each in a fresh process
with the archive's [catalog] memory_limit/threads, back to back:
`CREATE TABLE ... AS SELECT * EXCLUDE (artist_id) FROM tracks ORDER BY popularity`, then the
whole plan (coverage 99.6 %, default tiers and batch size). Prints wall times, CPU times and
peak RSS per run; the last line is one JSON object with the medians over the runs:
`sort_to_plan_ratio` = sort wall time / plan wall time (target >= 0.3, every run's under
`sort_to_plan_ratios`), `sort_to_plan_cpu_ratio` the same in CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.plan.catalogue import fill_catalogue  # noqa: E402

from musark.archive import Archive, init_archive  # noqa: E402
from musark.catalog.schema import connect  # noqa: E402
from musark.plan.db import open_catalog  # noqa: E402
from musark.plan.planner import PlanRequest, run_plan  # noqa: E402
from musark.plan.settings import plan_settings  # noqa: E402


def _child(kind: str, root: Path) -> None:
    """Run one measured job in this (fresh) process and print its figures as JSON."""
    archive = Archive(root)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if kind == "plan":
        summary = run_plan(archive, PlanRequest(coverage=99.6), show_progress=False)
        extra = {
            "files": summary["selected"]["files"],
            "coverage_pct": summary["selected"]["coverage_pct"],
            "bytes": summary["selected"]["bytes"],
        }
    else:
        con = open_catalog(archive, plan_settings(archive.settings))
        # The catalogue's columns as they were when this floor was set: tracks.artist_id (a copy
        # of the primary artist, added for the plan) would make the sort, not the plan, heavier.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sorted AS "
            "SELECT * EXCLUDE (artist_id) FROM tracks ORDER BY popularity"
        )
        extra = {"rows": con.execute("SELECT count(*) FROM _sorted").fetchall()[0][0]}
        con.close()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    print(
        json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": r1.ru_maxrss * 1024, **extra})
    )


def _measure(kind: str, root: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--dir", str(root)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate, measure plan and sort, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--tracks", type=int, default=int(os.environ.get("MUSARK_BENCH_PLAN_TRACKS", 10_000_000))
    )
    ap.add_argument(
        "--dir",
        type=Path,
        help="archive folder holding the generated catalogue, reused between invocations "
        "(default: a temp dir); every run plans a copy of it",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("MUSARK_BENCH_PLAN_REPEAT", 3)),
        help="runs (sort, then plan, on a fresh copy); the figures are their medians",
    )
    ap.add_argument("--child", choices=("plan", "sort"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.dir)
        return

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="musark-bench-plan-")
        args.dir = Path(tmp.name) / "archive"
    archive = Archive(args.dir)
    init_archive(archive)
    if not archive.catalog_db.exists():
        t0 = time.perf_counter()
        con = connect(archive.catalog_db)
        fill_catalogue(con, args.tracks)
        con.close()
        print(f"generated {args.tracks:,} tracks in {time.perf_counter() - t0:.1f} s")
    # Opened for writing once before measuring: a catalogue made by older code is brought up to
    # date here (catalog.schema), not inside whichever measurement opens it first. A plan left
    # in it (by an older bench that planned in place) goes: every run measures a first plan.
    con = connect(archive.catalog_db)
    tracks = con.execute("SELECT count(*) FROM tracks").fetchall()[0][0]
    for table in ("track_files", "batches", "plan_changes", "plan_exclusions", "plan_stale_files"):
        if con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
        ).fetchall()[0][0]:
            con.execute(f"DELETE FROM {table}")
    con.execute("CHECKPOINT")
    con.close()

    runs = []
    for r in range(1, args.repeat + 1):
        # each run on a fresh copy: the plan writes the catalogue, the next run plans anew
        with tempfile.TemporaryDirectory(prefix="musark-bench-plan-run-", dir=args.dir.parent) as d:
            run_dir = Path(d) / "archive"
            shutil.copytree(args.dir, run_dir)
            sort = _measure("sort", run_dir)
            plan = _measure("plan", run_dir)
        runs.append({"sort": sort, "plan": plan})
        print(
            f"run {r}: duckdb ORDER BY popularity {sort['wall_s']:.2f} s "
            f"({sort['cpu_s']:.2f} s CPU, peak RSS {sort['peak_rss_bytes'] / 2**20:.0f} MiB); "
            f"musark plan --coverage 99.6 {plan['wall_s']:.2f} s ({plan['cpu_s']:.2f} s CPU, "
            f"peak RSS {plan['peak_rss_bytes'] / 2**20:.0f} MiB, {plan['files']:,} files, "
            f"{plan['coverage_pct']:.3f} % of listens); "
            f"ratio {sort['wall_s'] / plan['wall_s']:.3f}"
        )

    def median(kind: str, key: str) -> float:
        return statistics.median(run[kind][key] for run in runs)

    ratios = [run["sort"]["wall_s"] / run["plan"]["wall_s"] for run in runs]
    cpu_ratios = [run["sort"]["cpu_s"] / run["plan"]["cpu_s"] for run in runs]
    last = runs[-1]["plan"]
    result = {
        "bench": "plan",
        "tracks": tracks,
        "memory_limit": plan_settings(archive.settings).memory_limit,
        "cores": os.cpu_count(),
        "repeat": args.repeat,
        # medians over the runs (each a sort and a plan on the same fresh copy, back to back):
        # the machine's speed drifts between minutes, a ratio taken within a run does less
        "plan_wall_s": round(median("plan", "wall_s"), 3),
        "plan_peak_rss_bytes": max(run["plan"]["peak_rss_bytes"] for run in runs),
        "plan_files": last["files"],
        "plan_coverage_pct": last["coverage_pct"],
        "sort_wall_s": round(median("sort", "wall_s"), 3),
        "sort_peak_rss_bytes": max(run["sort"]["peak_rss_bytes"] for run in runs),
        "plan_cpu_s": round(median("plan", "cpu_s"), 3),
        "sort_cpu_s": round(median("sort", "cpu_s"), 3),
        # CPU time is steadier than wall time on a machine shared with other work
        "sort_to_plan_cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "sort_to_plan_ratio": round(statistics.median(ratios), 3),
        "sort_to_plan_ratios": [round(x, 3) for x in ratios],
        "sort_to_plan_ratio_min": round(min(ratios), 3),
    }
    if tmp is not None:
        tmp.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
