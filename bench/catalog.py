"""Benchmark: `musark ingest` vs DuckDB's bare read_json → Parquet on the same synthetic dump.

Also measures the ingest's peak RSS (the child process, via wait4) and the p50/p99 latency of
track lookups by id and by ISRC: ``lookup_*`` as a long-running server answers them (after
``TrackLookup.warm()``, timed as ``lookup_warm_s``), ``lookup_cold_*`` from a fresh connection.
Size: --tracks N (default 2,000,000) or $MUSARK_BENCH_TRACKS.
The two sides run --repeat N times (default 3, or $MUSARK_BENCH_CATALOG_REPEAT), back to back,
who goes first alternating, each ingest into a fresh archive: the speed of this shared machine
drifts by 10-15 % from one minute to the next, so one pair can land far from the truth. The
last line printed is one JSON object; the speed ratio, the median of the pairs' ratios, is under
``ingest_vs_duckdb_ratio`` (also ``ingest_ratio_vs_duckdb``, the name the issue uses), every
pair's under ``ingest_ratios``; seconds are medians, the peak RSS the largest of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from musark.archive import Archive, init_archive  # noqa: E402
from musark.catalog.lookup import TrackLookup  # noqa: E402
from musark.catalog.synth import synth_catalog  # noqa: E402


def _peer(dump: Path, out: Path) -> float:
    """Seconds DuckDB takes to turn the dump into Parquet with read_json, nothing else."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_json('{dump}', format = 'newline_delimited', "
        f"ignore_errors = true)) TO '{out}' (FORMAT parquet)"
    )
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


def _ingest(dump: Path, archive: Path) -> tuple[float, int, dict]:
    """Run `musark ingest` in a child process; return (seconds, peak RSS bytes, its JSON)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "musark", "ingest", str(dump), "--archive", str(archive), "--json"],
        stdout=subprocess.PIPE,
        env=env,
    )
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"musark ingest failed with status {status}")
    return elapsed, usage.ru_maxrss * 1024, json.loads(out)


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _timed(lk: TrackLookup, sample: list[tuple[str, str | None]]) -> dict[str, float]:
    """p50/p99 milliseconds of a lookup by id and by ISRC of each sampled track."""
    by_id, by_isrc = [], []
    for tid, isrc in sample:
        t = time.perf_counter()
        row = lk.by_id(tid)
        by_id.append(time.perf_counter() - t)
        assert row is not None and row["id"] == tid
        if isrc:
            t = time.perf_counter()
            rows = lk.by_isrc(isrc)
            by_isrc.append(time.perf_counter() - t)
            assert any(r["id"] == tid for r in rows)
    return {
        "id_p50_ms": round(_p(by_id, 0.50) * 1000, 3),
        "id_p99_ms": round(_p(by_id, 0.99) * 1000, 3),
        "isrc_p50_ms": round(_p(by_isrc, 0.50) * 1000, 3),
        "isrc_p99_ms": round(_p(by_isrc, 0.99) * 1000, 3),
    }


def _lookups(archive: Archive, n: int) -> dict[str, float]:
    """Lookups of n sampled tracks: as a running server (after warm()), and from a cold start."""
    # cold: a fresh connection (its buffer pool holds only what the sampling read), 20 lookups in
    with TrackLookup(archive) as lk:
        sample = lk.con.execute(
            f"SELECT id, isrc FROM tracks USING SAMPLE {n} ROWS (reservoir, 42)"
        ).fetchall()
        random.Random(7).shuffle(sample)
        for tid, _ in sample[:20]:
            lk.by_id(tid)
        cold = _timed(lk, sample)
    with TrackLookup(archive) as lk:
        t = time.perf_counter()
        lk.warm()
        warm_s = time.perf_counter() - t
        warm = _timed(lk, sample)
    return {
        **{f"lookup_{k}": v for k, v in warm.items()},
        **{f"lookup_cold_{k}": v for k, v in cold.items()},
        "lookup_warm_s": round(warm_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--tracks", type=int, default=int(os.environ.get("MUSARK_BENCH_TRACKS", 2_000_000))
    )
    ap.add_argument("--bad-rate", type=float, default=0.001)
    ap.add_argument("--lookups", type=int, default=1000)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the dump here between runs")
    ap.add_argument(
        "--repeat", type=int, default=int(os.environ.get("MUSARK_BENCH_CATALOG_REPEAT", 3))
    )
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="musark-bench-catalog-"))
    work.mkdir(parents=True, exist_ok=True)
    dump = work / f"synth-{args.tracks}.jsonl"
    try:
        if not dump.exists():
            t = time.perf_counter()
            synth_catalog(dump, args.tracks, seed=1, bad_rate=args.bad_rate)
            print(
                f"synthesised {args.tracks} tracks in {time.perf_counter() - t:.1f} s", flush=True
            )
        size = dump.stat().st_size
        arc = Archive(work / "archive")
        peer_runs, ingest_runs, rss_runs = [], [], []
        for r in range(max(1, args.repeat)):
            for side in ("peer", "musark") if r % 2 == 0 else ("musark", "peer"):
                if side == "peer":
                    peer_runs.append(_peer(dump, work / "peer.parquet"))
                    print(f"duckdb read_json -> parquet: {peer_runs[-1]:.2f} s", flush=True)
                    continue
                shutil.rmtree(arc.root, ignore_errors=True)
                init_archive(arc)
                ingest_s, rss, result = _ingest(dump, arc.root)
                ingest_runs.append(ingest_s)
                rss_runs.append(rss)
                print(
                    f"musark ingest: {ingest_s:.2f} s, peak RSS {rss / 2**20:.0f} MiB", flush=True
                )
        ratios = [round(p / i, 3) for p, i in zip(peer_runs, ingest_runs, strict=True)]
        peer_s, ingest_s = statistics.median(peer_runs), statistics.median(ingest_runs)
        ratio = round(statistics.median(ratios), 3)
        lookups = _lookups(arc, args.lookups)
        figures = {
            "tracks": args.tracks,
            "dump_bytes": size,
            "runs": len(ratios),
            "peer_rows_per_s": round(args.tracks / peer_s),
            "ingest_rows_per_s": round(args.tracks / ingest_s),
            "ingest_ratio_vs_duckdb": ratio,
            "ingest_vs_duckdb_ratio": ratio,  # DESIGN.md: ratios end in _ratio
            "ingest_ratios": ratios,
            "peer_seconds": [round(x, 2) for x in peer_runs],
            "ingest_seconds": [round(x, 2) for x in ingest_runs],
            "ingest_peak_rss_mib": round(max(rss_runs) / 2**20, 1),
            "ingested": result["ingested"],
            "rejected": result["rejected"],
            **lookups,
        }
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
