"""Benchmark: Opus transcoding by `ffmpeg` (one process per file) vs `musark process`, same run.

Both sides get the same generated Ogg Vorbis sources and every core. Also measures the keep tier
(tag, SHA-256 of original and archived file, reconstruction patch, atomic writes, catalogue
records; no re-encode) in MB/s per core: `keep_mb_s_per_core_process_all_cores` = bytes of source
processed / wall seconds of the `musark process` command (run as a user runs it, in a fresh
process) / workers (= cores). The last line printed is one JSON object;
`opus_files_per_s_ratio` = musark / ffmpeg (files per wall second), `opus_files_per_cpu_s_ratio`
= the same per CPU second (ffmpeg's CPU seconds / musark's for the same files). Both sides run
--repeat N times (default 3, or $MUSARK_BENCH_MEDIA_REPEAT), back to back, who goes first
alternating: the speed of this shared machine drifts by 10-20 % from one minute to the next, so
one pair can land far from the truth. Each ratio is the median of the pairs' ratios (every pair's
is listed under `opus_files_per_s_ratios` and `opus_files_per_cpu_s_ratios`); files/s and CPU
seconds per file are medians.

`--instructions` adds a figure free of that noise: valgrind's callgrind counts the instructions
that one Opus encode of a generated source of --count-seconds (default 30; callgrind runs code
about 50x slower) costs ffmpeg (its whole process, as the bench runs it per file) and musark's
per-track function (the marginal cost of a track: a run over three tracks minus a run over one,
halved; the one-time cost of that process, start-up, imports and reading the jobs from the
catalogue, is reported apart). `opus_instructions_per_file_ratio` = ffmpeg's / musark's. It
depends on the length: ffmpeg pays its process start-up (~0.2 G instructions) once per file.

    python bench/media.py                    # the issue's size: 50 files of 3 min
    python bench/media.py --files 8 --seconds 60
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
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from musark.archive import Archive, init_archive
from musark.catalog.schema import connect
from musark.media.jobs import load_jobs
from musark.media.process import CHUNK_MAX
from musark.media.synth import write_audio
from musark.media.track import process_chunk
from musark.run.executors import default_workers


def require(tool: str) -> str:
    """Path of an external tool, or exit with a clear message."""
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"bench/media.py needs {tool!r} on PATH (Debian package: ffmpeg)")
    return path


def _make_source(args: tuple[Path, float, int]) -> Path:
    path, seconds, seed = args
    if not path.exists():
        write_audio(path, seconds, seed=seed)
    return path


def make_sources(folder: Path, files: int, seconds: float, workers: int) -> list[Path]:
    """Generated Ogg Vorbis sources named <track_id>.ogg (cached between runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(folder / f"b{n:04d}.ogg", seconds, n) for n in range(files)]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_make_source, jobs))


def plan(archive: Archive, sources: list[Path], seconds: float, tier: str) -> None:
    """Catalogue rows for ``sources`` planned in ``tier`` (keep | opus75), written with SQL."""
    init_archive(archive)
    con = connect(archive.catalog_db)
    ids = [p.stem for p in sources]
    action, kbps = ("keep", None) if tier == "keep" else ("opus", 75)
    con.execute("INSERT INTO artists (id, name, source) VALUES ('ar', 'Bench Artist', 'bench')")
    con.execute("INSERT INTO albums (id, name, label) VALUES ('al', 'Bench Album', 'CC0')")
    con.execute(
        """INSERT INTO tracks (id, name, album_id, track_number, duration_ms, artist_id)
           SELECT id, 'Track ' || id, 'al', n, ?, 'ar' FROM unnest(?) WITH ORDINALITY AS u(id, n)""",
        [int(seconds * 1000), ids],
    )
    con.execute("INSERT INTO track_artists SELECT id, 'ar', 0 FROM unnest(?) AS u(id)", [ids])
    con.execute(
        """INSERT INTO track_files (track_id, batch, seq_in_batch, tier, codec, target_kbps, status)
           SELECT id, ? || '__0001', n - 1, ?, ?, ?, 'planned'
           FROM unnest(?) WITH ORDINALITY AS u(id, n)""",
        [tier, tier, action, kbps, ids],
    )
    con.close()


def run_ffmpeg(sources: list[Path], out: Path, workers: int) -> tuple[float, float]:
    """(wall s, CPU s) of `ffmpeg -i x -c:a libopus -b:a 75k` over every file, ``workers`` at a
    time (the CPU seconds of every ffmpeg process)."""
    ffmpeg = require("ffmpeg")
    out.mkdir(parents=True, exist_ok=True)

    def one(src: Path) -> None:
        subprocess.run(
            [
                *(ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(src)),
                *("-c:a", "libopus", "-b:a", "75k", str(out / f"{src.stem}.opus")),
            ],
            check=True,
        )

    start, cpu = time.perf_counter(), _children_cpu()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, sources))
    return time.perf_counter() - start, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_musark(archive: Archive, source_dir: Path, workers: int) -> tuple[float, float]:
    """(wall s, CPU s) of the `musark process` command itself (a fresh process, as a user runs it).

    The CPU seconds are those of the command and all its workers (they are waited for).
    """
    cmd = [sys.executable, "-m", "musark", "process", "--archive", str(archive.root)]
    cmd += ["--source", str(source_dir), "--workers", str(workers), "--json"]
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    report = json.loads(proc.stdout) if proc.returncode == 0 else {}
    if not report or report["done"] != report["planned"]:
        sys.exit(f"musark process did not finish every track: {proc.stdout} {proc.stderr[-2000:]}")
    return elapsed, cpu


def planned_jobs(archive: Archive, source_dir: Path) -> list:
    """The TrackJobs `musark process` would run."""
    con = connect(archive.catalog_db)
    try:
        return load_jobs(con, archive, source_dir)
    finally:
        con.close()


def callgrind_instructions(cmd: list[str], out: Path) -> int:
    """Instructions ``cmd`` executes, counted by valgrind's callgrind (its own threads included)."""
    proc = subprocess.run(
        [require("valgrind"), "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"valgrind {' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    sys.exit(f"{out}: callgrind wrote no summary")


def count_child(archive_root: Path, source_dir: Path) -> None:
    """Run the per-track function over every planned track, one after the other (this process
    is the one callgrind counts)."""
    for job in planned_jobs(Archive(archive_root), source_dir):
        (record,) = process_chunk([job])
        if record["status"] != "done":
            sys.exit(f"{job.track_id}: {record}")


def count_instructions(cache: Path, work: Path, seconds: float) -> dict[str, float]:
    """Instructions per Opus file of ffmpeg and of musark's per-track function (see the module
    docstring), on one generated source of ``seconds``."""
    src = make_sources(cache / f"src-{seconds:g}s", 1, seconds, 1)[0]
    ffmpeg = callgrind_instructions(
        [
            *(require("ffmpeg"), "-nostdin", "-loglevel", "error", "-y", "-i", str(src)),
            *("-c:a", "libopus", "-b:a", "75k", str(work / "count.opus")),
        ],
        work / "callgrind.ffmpeg",
    )
    runs = {}
    for n in (1, 3):
        src_dir = work / f"count-src{n}"
        src_dir.mkdir()
        for c in range(n):
            (src_dir / f"{src.stem}c{c}.ogg").symlink_to(src)
        archive = Archive(work / f"count{n}")
        plan(archive, sorted(src_dir.iterdir()), seconds, "opus75")
        child = [sys.executable, str(Path(__file__).resolve()), "--count-child"]
        runs[n] = callgrind_instructions(
            [*child, str(archive.root), str(src_dir)], work / f"callgrind.musark{n}"
        )
    per_file = (runs[3] - runs[1]) / 2
    return {
        "instructions_source_seconds": seconds,
        "ffmpeg_opus_instructions_per_file": ffmpeg,
        "musark_opus_instructions_per_file": round(per_file),
        "musark_once_per_run_instructions": round(runs[1] - per_file),
        "opus_instructions_per_file_ratio": round(ffmpeg / per_file, 4),
    }


def keep_one_core(jobs: list) -> tuple[float, float, int, int]:
    """(wall s, CPU s, source bytes, patch bytes) for keep-tier jobs run here, chunk after chunk.

    The chunks are the ones `musark process` hands to each worker while many tracks remain.
    """
    size = sum(Path(j.source).stat().st_size for j in jobs)
    process_chunk(jobs[:1])  # warm imports and caches
    start, cpu = time.perf_counter(), time.process_time()
    records = [
        r for i in range(0, len(jobs), CHUNK_MAX) for r in process_chunk(jobs[i : i + CHUNK_MAX])
    ]
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if any(r["status"] != "done" for r in records):
        sys.exit(f"keep tier failed: {[r for r in records if r['status'] != 'done'][:3]}")
    return elapsed, cpu, size, sum(r["patch_size"] for r in records)


def main() -> None:
    """Run both sides on the same input and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=int(os.environ.get("BENCH_FILES", 50)))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 180)))
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("MUSARK_BENCH_MEDIA_REPEAT", 3)),
        help="pairs of runs (who goes first alternates); ratios are the median of the pairs'",
    )
    ap.add_argument(
        "--keep-copies", type=int, default=3, help="keep tier runs on this many ids per source"
    )
    ap.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "musark-bench-media"
    )
    ap.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per Opus file with valgrind (a figure free of timing noise)",
    )
    ap.add_argument("--count-seconds", type=float, default=30.0, help="source length to count on")
    ap.add_argument("--count-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.count_child:
        count_child(*args.count_child)
        return
    require("ffmpeg")
    cores = args.workers
    sources = make_sources(args.cache / f"src-{args.seconds:g}s", args.files, args.seconds, cores)
    src_dir = sources[0].parent
    total_mb = sum(p.stat().st_size for p in sources) / 1e6
    with tempfile.TemporaryDirectory(prefix="musark-bench-") as tmp:
        work = Path(tmp)
        ffmpeg_runs, musark_runs = [], []
        ffmpeg_cpu, musark_cpu = [], []
        for r in range(max(1, args.repeat)):
            # Alternate who goes first: on a shared machine the load drifts during a run.
            sides = ["ffmpeg", "musark"] if r % 2 == 0 else ["musark", "ffmpeg"]
            for side in sides:
                if side == "ffmpeg":
                    wall, cpu = run_ffmpeg(sources, work / f"ffmpeg{r}", cores)
                    ffmpeg_runs.append(wall)
                    ffmpeg_cpu.append(cpu)
                else:
                    opus = Archive(work / f"opus{r}")
                    plan(opus, sources, args.seconds, "opus75")
                    wall, cpu = run_musark(opus, src_dir, cores)
                    musark_runs.append(wall)
                    musark_cpu.append(cpu)
        wall_ratios = [round(f / m, 3) for f, m in zip(ffmpeg_runs, musark_runs, strict=True)]
        cpu_ratios = [round(f / m, 3) for f, m in zip(ffmpeg_cpu, musark_cpu, strict=True)]
        ffmpeg_s, musark_s = statistics.median(ffmpeg_runs), statistics.median(musark_runs)
        # The keep tier on more files (links to the same sources under more ids) so that the
        # worker start-up is amortised as in a real batch.
        keep_src = work / "keep-src"
        keep_src.mkdir()
        for c in range(args.keep_copies):
            for p in sources:
                (keep_src / f"{p.stem}c{c}.ogg").symlink_to(p)
        keep_sources = sorted(keep_src.iterdir())
        keep = Archive(work / "keep")
        plan(keep, keep_sources, args.seconds, "keep")
        keep_jobs = planned_jobs(keep, keep_src)
        keep_all_s, keep_all_cpu = run_musark(keep, keep_src, cores)
        keep_1_s, keep_cpu_s, keep_bytes, patch_bytes = keep_one_core(keep_jobs[: args.files])
        counted = (
            count_instructions(args.cache, work, args.count_seconds) if args.instructions else {}
        )
    ffmpeg_fps = args.files / ffmpeg_s
    musark_fps = args.files / musark_s
    result = {
        "files": args.files,
        "repeat": args.repeat,
        "ffmpeg_seconds": [round(x, 2) for x in ffmpeg_runs],
        "musark_seconds": [round(x, 2) for x in musark_runs],
        "seconds_per_file": args.seconds,
        "cores": cores,
        "source_mb": round(total_mb, 1),
        "ffmpeg_opus_files_per_s": round(ffmpeg_fps, 3),
        "musark_opus_files_per_s": round(musark_fps, 3),
        "opus_files_per_s_ratio": round(statistics.median(wall_ratios), 3),
        "opus_files_per_s_ratios": wall_ratios,
        # CPU seconds per file of every ffmpeg process, and of the `musark process` command with
        # its workers (start-up, catalogue and ledger included): what the other tenants of a
        # busy machine cannot take away
        "ffmpeg_opus_cpu_s_per_file": round(statistics.median(ffmpeg_cpu) / args.files, 3),
        "musark_opus_cpu_s_per_file": round(statistics.median(musark_cpu) / args.files, 3),
        "opus_files_per_cpu_s_ratio": round(statistics.median(cpu_ratios), 3),
        "opus_files_per_cpu_s_ratios": cpu_ratios,
        "keep_mb_s_per_core_one_process": round(keep_bytes / 1e6 / keep_1_s, 1),
        # CPU time of that process: the per-core rate without the other tenants of a busy box
        "keep_mb_s_per_core_cpu_time": round(keep_bytes / 1e6 / keep_cpu_s, 1),
        "keep_files": len(keep_jobs),
        "keep_mb_s_per_core_process_all_cores": round(
            total_mb * args.keep_copies / keep_all_s / cores, 1
        ),
        # the same run per CPU second of the command and its workers: what other tenants of a
        # busy machine cannot take away (includes start-up, catalogue and ledger work)
        "keep_mb_per_cpu_s_process": round(total_mb * args.keep_copies / keep_all_cpu, 1),
        "keep_patch_percent": round(100 * patch_bytes / keep_bytes, 4),
        "keep_target_mb_s_per_core": 80,
        **counted,
    }
    print(
        f"ffmpeg: {ffmpeg_fps:.3f} files/s   musark: {musark_fps:.3f} files/s   "
        f"ratio {result['opus_files_per_s_ratio']}   (CPU s per file: ffmpeg "
        f"{result['ffmpeg_opus_cpu_s_per_file']}, musark {result['musark_opus_cpu_s_per_file']})"
    )
    print(
        f"keep tier: {result['keep_mb_s_per_core_one_process']} MB/s on one core, "
        f"{result['keep_mb_s_per_core_process_all_cores']} MB/s per core via process"
    )
    if counted:
        print(
            f"instructions per {args.count_seconds:g}-s Opus file: ffmpeg "
            f"{counted['ffmpeg_opus_instructions_per_file'] / 1e9:.3f} G, musark "
            f"{counted['musark_opus_instructions_per_file'] / 1e9:.3f} G, ratio "
            f"{counted['opus_instructions_per_file_ratio']}"
        )
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
