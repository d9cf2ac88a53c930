"""`musark process`: every planned track → archived file, patch and catalogue record, resumably."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.fsio import remove_stale_temps
from musark.media import libopus
from musark.media.jobs import iter_jobs, planned_batches
from musark.media.track import TrackJob, crashed_record, process_chunk
from musark.run.executors import make_executor, map_chunks
from musark.run.ledger import Ledger
from musark.run.progress import job_progress

STAGE = "process"
# Catalogue writes happen in chunks of this many results (or every FLUSH_SECONDS).
FLUSH_ROWS = 500
FLUSH_SECONDS = 10.0
# Keep-tier tracks go to a worker in chunks of up to this many: their files are synced to disk
# while the next track is computed and their folders synced once per chunk. Chunks shrink towards
# the end of a run so that every worker stays busy until the last track.
CHUNK_MAX = 8
CHUNKS_PER_WORKER = 4
# Quarantined tracks listed in the report (all of them are in track_files and the ledger).
MAX_EXAMPLES = 20

RECORD_SCHEMA = pa.schema(
    [
        ("track_id", pa.string()),
        ("batch", pa.string()),
        ("status", pa.string()),
        ("codec", pa.string()),
        ("ext", pa.string()),
        ("size", pa.int64()),
        ("duration_ms", pa.int32()),
        ("bitrate_kbps", pa.int32()),
        ("sample_rate", pa.int32()),
        ("channels", pa.int32()),
        ("sha256", pa.string()),
        ("sha256_original", pa.string()),
        ("size_original", pa.int64()),
        ("patch_size", pa.int64()),
        ("processed_at", pa.timestamp("us")),
        ("error", pa.string()),
        ("warning", pa.string()),
    ]
)
_SET_COLUMNS = [f.name for f in RECORD_SCHEMA if f.name not in ("track_id", "batch")]


@dataclass
class ProcessReport:
    """What one `musark process` run did."""

    planned: int = 0
    done: int = 0
    quarantined: int = 0
    failed: int = 0
    replayed: int = 0
    stale_temps_removed: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    patch_bytes: int = 0
    keep_bytes: int = 0
    seconds: float = 0.0
    executor: str = "local"
    workers: int = 0
    libopus: str = ""
    reasons: Counter = field(default_factory=Counter)
    quarantined_examples: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {
            "planned": self.planned,
            "done": self.done,
            "quarantined": self.quarantined,
            "failed": self.failed,
            "replayed_from_ledger": self.replayed,
            "stale_temps_removed": self.stale_temps_removed,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "patch_bytes": self.patch_bytes,
            "patch_percent_of_kept": round(100 * self.patch_bytes / self.keep_bytes, 4)
            if self.keep_bytes
            else None,
            "seconds": round(self.seconds, 3),
            "files_per_second": round((self.done + self.quarantined) / self.seconds, 3)
            if self.seconds
            else None,
            "executor": self.executor,
            "workers": self.workers,
            "libopus": self.libopus,
            "quarantine_reasons": dict(sorted(self.reasons.items())),
            "quarantined_examples": self.quarantined_examples,
            "failures": self.failures,
        }


def ensure_media_columns(con) -> None:
    """Add the columns `process` records beyond the base schema (idempotent)."""
    con.execute("ALTER TABLE track_files ADD COLUMN IF NOT EXISTS warning VARCHAR")


def write_records(con, records: list[dict[str, Any]]) -> None:
    """Write result records to track_files in one vectorised UPDATE ... FROM an Arrow table."""
    if not records:
        return
    table = pa.Table.from_pylist(
        [{k: r.get(k) for k in RECORD_SCHEMA.names} for r in records], schema=RECORD_SCHEMA
    )
    sets = ", ".join(f"{c} = r.{c}" for c in _SET_COLUMNS)
    con.register("_process_results", table)
    try:
        con.execute(
            f"UPDATE track_files SET {sets} FROM _process_results r "
            "WHERE track_files.track_id = r.track_id AND track_files.batch = r.batch"
        )
    finally:
        con.unregister("_process_results")


def _stamp(records: list[tuple[dict[str, Any], float]]) -> list[dict[str, Any]]:
    return [
        {**r, "processed_at": datetime.fromtimestamp(t, UTC).replace(tzinfo=None)}
        for r, t in records
    ]


def _flush(con, ledger: Ledger) -> int:
    """Copy every finished ledger result into the catalogue; return how many."""
    pending = list(ledger.unsynced())
    if pending:
        write_records(con, _stamp(pending))
        ledger.mark_synced(r["track_id"] for r, _ in pending)
    return len(pending)


def _tally(report: ProcessReport, rec: dict[str, Any]) -> None:
    report.bytes_in += rec.get("size_original") or 0
    if rec["status"] == "done":
        report.done += 1
        report.bytes_out += rec["size"]
        if rec.get("patch_size") is not None:
            report.patch_bytes += rec["patch_size"]
            report.keep_bytes += rec["size_original"]
    elif rec["status"] == "quarantined":
        report.quarantined += 1
        report.reasons[rec["error"].split(":", 1)[0]] += 1
        if len(report.quarantined_examples) < MAX_EXAMPLES:
            report.quarantined_examples.append(
                {"track_id": rec["track_id"], "batch": rec["batch"], "error": rec["error"]}
            )
    else:
        report.failed += 1
        report.failures.append({"track_id": rec["track_id"], "error": rec["error"]})


def chunk_jobs(jobs: Iterable[TrackJob], total: int, workers: int) -> Iterator[list[TrackJob]]:
    """Group keep-tier jobs in chunks (smaller as the run nears its end); a transcode goes alone."""
    remaining = total
    chunk: list[TrackJob] = []
    for job in jobs:
        if job.action != "keep":
            remaining -= 1
            yield [job]  # seconds of CPU each: chunking would only unbalance the workers
            continue
        chunk.append(job)
        if len(chunk) >= max(1, min(CHUNK_MAX, remaining // (workers * CHUNKS_PER_WORKER))):
            remaining -= len(chunk)
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def process_archive(
    archive: Archive,
    source_dir: Path | None = None,
    workers: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    batch: str | None = None,
    show_progress: bool | None = None,
) -> ProcessReport:
    """Process every planned track not yet done; safe to kill and re-run at any moment."""
    start = time.monotonic()
    # Workers inherit MUSARK_LIBOPUS, so on this machine they choose as this process did.
    report = ProcessReport(executor=executor, libopus=libopus.active().describe())
    for d in (archive.files_dir, archive.patches_dir, archive.quarantine_dir):
        report.stale_temps_removed += remove_stale_temps(d)
    if source_dir is not None and not source_dir.is_dir():
        raise FileNotFoundError(f"--source {source_dir}: not a directory")
    con = connect(archive.catalog_db)
    ledger = Ledger(archive.ledger_db, STAGE)
    try:
        ensure_media_columns(con)
        report.replayed = _flush(con, ledger)  # results a killed run had not written yet
        batches = planned_batches(con, batch)
        report.planned = sum(batches.values())
        if not report.planned:
            report.seconds = time.monotonic() - start
            return report
        runner = make_executor(executor, workers, ray_address)
        runner.warm(process_chunk)  # the workers start while the jobs are read
        report.workers = runner.workers
        jobs = iter_jobs(con, archive, list(batches), source_dir)
        buffered: list[dict[str, Any]] = []
        unsynced = 0
        last_flush = last_ledger = time.monotonic()
        try:
            with job_progress(disable=None if show_progress is None else not show_progress) as bar:
                task = bar.add_task("process", total=report.planned, bytes=0, failures=0)
                chunks = chunk_jobs(jobs, report.planned, runner.workers)
                for rec in map_chunks(runner, process_chunk, chunks, crashed_record):
                    _tally(report, rec)
                    buffered.append(rec)
                    bar.update(
                        task,
                        advance=1,
                        bytes=report.bytes_in,
                        failures=report.quarantined + report.failed,
                    )
                    now = time.monotonic()
                    if len(buffered) >= 64 or now - last_ledger > 1.0:
                        ledger.add(buffered)
                        unsynced += len(buffered)
                        buffered = []
                        last_ledger = now
                    if unsynced >= FLUSH_ROWS or now - last_flush > FLUSH_SECONDS:
                        _flush(con, ledger)
                        unsynced = 0
                        last_flush = now
        finally:
            if buffered:
                ledger.add(buffered)
            _flush(con, ledger)
            runner.close()
    finally:
        ledger.close()
        con.close()
    report.seconds = time.monotonic() - start
    return report
