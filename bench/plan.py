"""Benchmark `musark plan` against its floor, a bare DuckDB ORDER BY popularity of the same table.

    python bench/plan.py [--tracks 10000000] [--dir DIR]     (or env MUSARK_BENCH_PLAN_TRACKS)

Generates a synthetic catalogue straight into DuckDB with SQL (70 % popularity 0, ~0.1 % >= 50,
ISRC groups, artists, albums), then runs, each in a fresh process with the archive's
[catalog] memory_limit/threads: the whole plan (coverage 99.6 %, default tiers and batch size),
and `CREATE TABLE ... AS SELECT * EXCLUDE (artist_id) FROM tracks ORDER BY popularity`. Prints wall times and peak
RSS and CPU time; the last line is one JSON object, `sort_to_plan_ratio` = sort wall time / plan
wall time (target >= 0.3), `sort_to_plan_cpu_ratio` the same in CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    ap.add_argument("--dir", type=Path, help="archive folder to (re)use (default: a temp dir)")
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
    n = Archive(args.dir)
    # Opened for writing once before measuring: a catalogue made by older code is brought up to
    # date here (catalog.schema), not inside whichever measurement opens it first.
    con = connect(n.catalog_db)
    tracks = con.execute("SELECT count(*) FROM tracks").fetchall()[0][0]
    con.close()

    sort = _measure("sort", args.dir)
    print(
        f"duckdb ORDER BY popularity: {sort['wall_s']:.2f} s ({sort['cpu_s']:.2f} s CPU), "
        f"peak RSS {sort['peak_rss_bytes'] / 2**20:.0f} MiB"
    )
    plan = _measure("plan", args.dir)
    print(
        f"musark plan --coverage 99.6: {plan['wall_s']:.2f} s ({plan['cpu_s']:.2f} s CPU), peak RSS "
        f"{plan['peak_rss_bytes'] / 2**20:.0f} MiB, {plan['files']:,} files "
        f"({plan['coverage_pct']:.3f} % of listens)"
    )
    result = {
        "bench": "plan",
        "tracks": tracks,
        "memory_limit": plan_settings(archive.settings).memory_limit,
        "cores": os.cpu_count(),
        "plan_wall_s": round(plan["wall_s"], 3),
        "plan_peak_rss_bytes": plan["peak_rss_bytes"],
        "plan_files": plan["files"],
        "plan_coverage_pct": plan["coverage_pct"],
        "sort_wall_s": round(sort["wall_s"], 3),
        "sort_peak_rss_bytes": sort["peak_rss_bytes"],
        "plan_cpu_s": round(plan["cpu_s"], 3),
        "sort_cpu_s": round(sort["cpu_s"], 3),
        # CPU time is steadier than wall time on a machine shared with other work
        "sort_to_plan_cpu_ratio": round(sort["cpu_s"] / plan["cpu_s"], 3),
        "sort_to_plan_ratio": round(sort["wall_s"] / plan["wall_s"], 3),
    }
    if tmp is not None:
        tmp.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
