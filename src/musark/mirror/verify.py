"""Fixity audit of a mirror: size and SHA-256 of every present file against the index, and repair.

What each status means, per batch folder under ``files/``:

- ``ok``: the file matches the index (size and SHA-256).
- ``corrupt``: present but wrong size (e.g. truncated) or wrong SHA-256, or unreadable.
- ``missing``: the index lists it for a batch whose folder exists, but the file is absent. A
  mirror may hold any subset of a batch (``musark fetch`` of single tracks), so missing files
  do not fail the audit. They are named one by one when the folder holds at least half of its
  batch, or when the fixity ledger had verified them here before (``lost``); otherwise counted.
- ``unexpected``: a file in a batch folder that the index does not list (BagIt tag files at
  the folder root, and BEP 47 ``.pad/`` files some clients write for v2/hybrid torrents, are
  expected), or a folder that is not a released batch (one issue for the folder, its files
  counted).

Batches in the index with no folder at all are not mirrored here: they are counted
(``batches_absent``), never reported as missing. A folder written by any BitTorrent client
(the torrent root is the batch folder) is read as is.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musark.archive import Archive
from musark.console import progress
from musark.ids import is_valid_id
from musark.index.open import open_index
from musark.index.query import IndexedFile, batch_files, batches
from musark.mirror.download import download_files
from musark.mirror.fixity import FixityLedger
from musark.mirror.hashing import default_threads, hash_many

TAG_FILE_RE = re.compile(r"^(bagit\.txt|bag-info\.txt|fetch\.txt|(tag)?manifest-[a-z0-9]+\.txt)$")
DAY = 86400.0


@dataclass
class Issue:
    """One file that is not ``ok``."""

    batch: str
    path: str
    status: str  # corrupt | missing | unexpected | repaired
    reason: str | None = None
    track_id: str | None = None
    lost: bool = False
    moved_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, False)}


@dataclass
class BatchCounts:
    """Per-batch tallies."""

    batch: str
    released: bool
    ok: int = 0
    missing: int = 0
    corrupt: int = 0
    unexpected: int = 0
    skipped: int = 0
    repaired: int = 0


@dataclass
class VerifyReport:
    """Outcome of ``musark verify``."""

    batches: list[BatchCounts]
    issues: list[Issue]
    batches_absent: int
    bytes_hashed: int
    files_hashed: int
    seconds: float
    threads: int
    repaired: list[Issue] = field(default_factory=list)

    @property
    def corrupt_left(self) -> int:
        """Corrupt files still in the mirror (after any repair)."""
        return sum(1 for i in self.issues if i.status == "corrupt")

    @property
    def ok(self) -> bool:
        """True when no corrupt file remains."""
        return self.corrupt_left == 0

    def totals(self) -> dict[str, int]:
        """Counts summed over batches."""
        keys = ("ok", "missing", "corrupt", "unexpected", "skipped", "repaired")
        return {k: sum(getattr(b, k) for b in self.batches) for k in keys}

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return {
            "ok": self.ok,
            "totals": self.totals(),
            "batches": [b.__dict__ for b in self.batches],
            "batches_absent": self.batches_absent,
            "issues": [i.as_dict() for i in self.issues],
            "repaired": [i.as_dict() for i in self.repaired],
            "bytes_hashed": self.bytes_hashed,
            "files_hashed": self.files_hashed,
            "seconds": round(self.seconds, 3),
            "gb_per_s": round(self.bytes_hashed / self.seconds / 1e9, 3) if self.seconds else None,
            "threads": self.threads,
        }


def _walk(folder: Path) -> dict[str, os.stat_result]:
    """Every regular file under ``folder`` (relative posix path → stat), one scandir pass."""
    found: dict[str, os.stat_result] = {}
    stack = [(folder, "")]
    while stack:
        d, prefix = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                rel = f"{prefix}{e.name}"
                if e.is_dir(follow_symlinks=False):
                    stack.append((Path(e.path), f"{rel}/"))
                else:
                    found[rel] = e.stat()
    return found


@dataclass
class _Batch:
    """One batch folder, planned: its tallies, the files to hash, and what repair would need."""

    counts: BatchCounts
    to_hash: list[tuple[IndexedFile, os.stat_result]] = field(default_factory=list)
    repairable: dict[str, IndexedFile] = field(default_factory=dict)  # corrupt or lost, by path


def _unknown_folder(folder: str, present: dict[str, os.stat_result], issues: list[Issue]) -> _Batch:
    # One issue for the whole folder: it may be large (an unreleased batch on an operator's archive).
    reason = f"folder is not a released batch ({len(present)} files)"
    issues.append(Issue(folder, "", "unexpected", reason))
    return _Batch(BatchCounts(folder, released=False, unexpected=len(present)))


def _plan_batch(
    con: Any,
    ledger: FixityLedger,
    folder: str,
    present: dict[str, os.stat_result],
    cutoff: float | None,
    issues: list[Issue],
) -> _Batch:
    """Compare one folder's listing with the index and the ledger: what is missing, resized, to hash."""
    expected = {f.path: f for f in batch_files(con, folder)}
    plan = _Batch(BatchCounts(folder, released=True))
    seen = ledger.batch(folder)
    # A folder holding most of its batch is meant to be complete: name each file it lacks. In a
    # partial mirror (single tracks fetched) only files verified here before are named; the
    # rest are counted, which keeps memory bounded on 60,000-file batches.
    name_all = 2 * sum(1 for p in expected if p in present) >= len(expected)
    rows = []
    for path, f in expected.items():
        st = present.get(path)
        rec = seen.get(path)
        if st is None:
            plan.counts.missing += 1
            lost = rec is not None and rec.last_ok_at is not None
            if lost:
                plan.repairable[path] = f
            if lost or name_all:
                issues.append(Issue(folder, path, "missing", None, f.track_id, lost))
            if rec is not None and rec.status != "missing":
                rows.append((path, None, None, None, "missing"))
        elif st.st_size != f.size:
            reason = f"size {st.st_size} bytes, index says {f.size}"
            issues.append(Issue(folder, path, "corrupt", reason, f.track_id))
            plan.counts.corrupt += 1
            plan.repairable[path] = f
            rows.append((path, st.st_size, st.st_mtime_ns, None, "corrupt"))
        elif (
            cutoff is not None
            and rec is not None
            and rec.status == "ok"
            and (rec.last_ok_at or 0) >= cutoff
            and (rec.size, rec.mtime_ns) == (st.st_size, st.st_mtime_ns)
        ):
            plan.counts.skipped += 1
        else:
            plan.to_hash.append((f, st))
    ledger.record(folder, rows)
    for path in sorted(set(present) - set(expected)):
        if ("/" not in path and TAG_FILE_RE.match(path)) or path.startswith(".pad/"):
            continue
        issues.append(Issue(folder, path, "unexpected", "not in the index"))
        plan.counts.unexpected += 1
    return plan


class _Ticker:
    """Progress callback that updates the bar at most ten times a second (rich is slow per call)."""

    def __init__(self, bar: Any, task: Any) -> None:
        self.bar, self.task, self.pending, self.last = bar, task, 0, 0.0

    def __call__(self, _path: object, n: int) -> None:
        self.pending += n
        now = time.monotonic()
        if now - self.last > 0.1:
            self.bar.advance(self.task, self.pending)
            self.pending, self.last = 0, now

    def flush(self) -> None:
        """Report what is still pending."""
        self.bar.advance(self.task, self.pending)
        self.pending = 0


def _hash_batch(
    archive: Archive,
    plan: _Batch,
    issues: list[Issue],
    ledger: FixityLedger,
    threads: int,
    advance: _Ticker,
) -> int:
    """Hash the planned files of one batch on every core; record each result; return bytes read."""
    batch = plan.counts.batch
    root = os.path.join(archive.files_dir, batch)
    # Plain strings, not Path objects: per-file Python work is what limits small files.
    todo = {
        os.path.join(root, f.path): (f, st)
        for f, st in sorted(plan.to_hash, key=lambda x: x[0].path)
    }
    rows = []
    read = 0
    for full, size, digest, error in hash_many(list(todo), threads, advance):
        f, st = todo[full]
        read += size
        if error is None and digest == f.sha256:
            plan.counts.ok += 1
            status = "ok"
        else:
            plan.counts.corrupt += 1
            plan.repairable[f.path] = f
            status = "corrupt"
            reason = error or f"sha256 {digest}, index says {f.sha256}"
            issues.append(Issue(batch, f.path, "corrupt", reason, f.track_id))
        rows.append((f.path, st.st_size, st.st_mtime_ns, digest, status))
    advance.flush()
    ledger.record(batch, rows)
    return read


def verify(
    archive: Archive,
    *,
    since_days: float | None = None,
    repair: bool = False,
    peers: Sequence[str] = (),
    listen: str | None = None,
    threads: int = 0,
    show_progress: bool | None = None,
) -> VerifyReport:
    """Audit every batch folder of the mirror against the index; with ``repair``, re-fetch bad files."""
    start = time.perf_counter()
    threads = default_threads(
        threads or int(archive.settings.section("mirror").get("hash_threads", 0))
    )
    cutoff = None if since_days is None else time.time() - since_days * DAY
    entries = list(os.scandir(archive.files_dir)) if archive.files_dir.exists() else []
    folders = sorted(e.name for e in entries if e.is_dir())
    issues = [
        Issue("", e.name, "unexpected", "file outside any batch folder")
        for e in sorted(entries, key=lambda e: e.name)
        if not e.is_dir()
    ]
    con = open_index(archive)
    ledger = FixityLedger(archive)
    counts: list[BatchCounts] = []
    repairable: dict[tuple[str, str], IndexedFile] = {}
    read = hashed = 0
    try:
        released = set(batches(con))
        sizes = dict(con.execute("SELECT batch, sum(size) FROM track_files GROUP BY batch"))
        # Batches are planned and hashed one at a time, so memory stays bounded by one batch.
        total = sum(sizes.get(f, 0) for f in folders if f in released)
        with progress(
            transfer=True, disable=None if show_progress is None else not show_progress
        ) as bar:
            task = bar.add_task("verify", total=total)
            for folder in folders:
                present = _walk(archive.files_dir / folder)
                if folder not in released or not is_valid_id(folder):
                    counts.append(_unknown_folder(folder, present, issues).counts)
                    continue
                plan = _plan_batch(con, ledger, folder, present, cutoff, issues)
                total -= sizes[folder] - sum(st.st_size for _, st in plan.to_hash)
                bar.update(task, total=total)
                read += _hash_batch(archive, plan, issues, ledger, threads, _Ticker(bar, task))
                hashed += len(plan.to_hash)
                counts.append(plan.counts)
                repairable.update({(folder, p): f for p, f in plan.repairable.items()})
        report = VerifyReport(
            batches=counts,
            issues=issues,
            batches_absent=len(released - set(folders)),
            bytes_hashed=read,
            files_hashed=hashed,
            seconds=time.perf_counter() - start,
            threads=threads,
        )
        if repair and repairable:
            _repair(archive, report, repairable, peers, listen, show_progress)
    finally:
        ledger.close()
        con.close()
    report.issues.sort(key=lambda i: (i.batch, i.path))
    report.repaired.sort(key=lambda i: (i.batch, i.path))
    return report


def _repair(
    archive: Archive,
    report: VerifyReport,
    repairable: dict[tuple[str, str], IndexedFile],
    peers: Sequence[str],
    listen: str | None,
    show_progress: bool | None,
) -> None:
    """Re-fetch corrupt and lost files; the bad copy goes to state/quarantine only once the good one is verified."""
    results = download_files(
        archive, list(repairable.values()), peers=peers, listen=listen, show_progress=show_progress
    ).files
    fixed = {(r.batch, r.path): r for r in results if r.status == "fetched"}
    failed = {(r.batch, r.path): r.reason for r in results if r.status == "failed"}
    # Re-verify what is now in place, independently of the download's own check.
    rehashed = {
        full: digest
        for full, _, digest, _ in hash_many(archive.files_dir / b / p for b, p in fixed)
    }
    counts = {c.batch: c for c in report.batches}
    kept: list[Issue] = []
    for issue in report.issues:
        key = (issue.batch, issue.path)
        if key not in repairable:
            kept.append(issue)
            continue
        res = fixed.get(key)
        good = rehashed.get(archive.files_dir / issue.batch / issue.path) == repairable[key].sha256
        if res is None or not good:
            issue.reason = f"{issue.reason}; repair failed: {failed.get(key, 'not re-verified')}"
            kept.append(issue)
            continue
        c = counts[issue.batch]
        c.repaired += 1
        c.ok += 1
        if issue.status == "corrupt":
            c.corrupt -= 1
        else:
            c.missing -= 1
        was = f"was {issue.status}: {issue.reason or 'absent'}"
        report.repaired.append(
            Issue(issue.batch, issue.path, "repaired", was, issue.track_id, moved_to=res.replaced)
        )
    report.issues = kept
