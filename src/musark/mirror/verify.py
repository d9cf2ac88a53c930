"""Fixity audit of a mirror: size and SHA-256 of every present file against the index, and repair.

What each status means, per batch folder under ``files/``:

- ``ok``: the file matches the index (size and SHA-256).
- ``corrupt``: present but wrong size (e.g. truncated) or wrong SHA-256, or unreadable.
- ``missing``: the index lists it for a batch whose folder exists, but the file is absent. A
  mirror may hold any subset of a batch (``musark fetch`` of single tracks), so missing files
  do not fail the audit; ``lost`` marks those the fixity ledger had verified before.
- ``unexpected``: a file in a batch folder that the index does not list (BagIt tag files at
  the folder root, and BEP 47 ``.pad/`` files some clients write for v2/hybrid torrents, are
  expected), or any file in a folder that is not a released batch.

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
class _Plan:
    counts: BatchCounts
    expected: dict[str, IndexedFile]
    to_hash: list[tuple[str, os.stat_result]]


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
    threads = threads or int(archive.settings.section("mirror").get("hash_threads", 0))
    threads = default_threads(threads)
    con = open_index(archive)
    ledger = FixityLedger(archive)
    cutoff = None if since_days is None else time.time() - since_days * DAY
    released = set(batches(con))
    entries = list(os.scandir(archive.files_dir)) if archive.files_dir.exists() else []
    folders = sorted(e.name for e in entries if e.is_dir())
    loose = sorted(e.name for e in entries if not e.is_dir())
    issues: list[Issue] = []
    plans: dict[str, _Plan] = {}
    for name in loose:
        issues.append(Issue("", name, "unexpected", "file outside any batch folder"))
    try:
        for folder in folders:
            present = _walk(archive.files_dir / folder)
            if folder not in released or not is_valid_id(folder):
                counts = BatchCounts(folder, released=False, unexpected=len(present))
                plans[folder] = _Plan(counts, {}, [])
                issues += [
                    Issue(folder, p, "unexpected", "folder is not a released batch")
                    for p in sorted(present)
                ]
                continue
            expected = {f.path: f for f in batch_files(con, folder)}
            plan = plans[folder] = _Plan(BatchCounts(folder, released=True), expected, [])
            seen = ledger.batch(folder)
            lost_rows = []
            for path, f in expected.items():
                st = present.get(path)
                rec = seen.get(path)
                if st is None:
                    lost = rec is not None and rec.last_ok_at is not None
                    issues.append(Issue(folder, path, "missing", None, f.track_id, lost))
                    plan.counts.missing += 1
                    if rec is not None:
                        lost_rows.append((path, None, None, None, "missing"))
                elif st.st_size != f.size:
                    issues.append(
                        Issue(
                            folder,
                            path,
                            "corrupt",
                            f"size {st.st_size} bytes, index says {f.size}",
                            f.track_id,
                        )
                    )
                    plan.counts.corrupt += 1
                    lost_rows.append((path, st.st_size, st.st_mtime_ns, None, "corrupt"))
                elif (
                    cutoff is not None
                    and rec is not None
                    and rec.status == "ok"
                    and (rec.last_ok_at or 0) >= cutoff
                    and rec.size == st.st_size
                    and rec.mtime_ns == st.st_mtime_ns
                ):
                    plan.counts.skipped += 1
                else:
                    plan.to_hash.append((path, st))
            ledger.record(folder, lost_rows)
            for path in sorted(set(present) - set(expected)):
                if ("/" not in path and TAG_FILE_RE.match(path)) or path.startswith(".pad/"):
                    continue
                issues.append(Issue(folder, path, "unexpected", "not in the index"))
                plan.counts.unexpected += 1
        hashed_bytes, hashed_files = _hash_all(
            archive, plans, issues, ledger, threads, show_progress
        )
        report = VerifyReport(
            batches=[p.counts for p in plans.values()],
            issues=issues,
            batches_absent=len(released - set(folders)),
            bytes_hashed=hashed_bytes,
            files_hashed=hashed_files,
            seconds=time.perf_counter() - start,
            threads=threads,
        )
        if repair:
            _repair(archive, report, plans, ledger, peers, listen, show_progress)
    finally:
        ledger.close()
        con.close()
    report.issues.sort(key=lambda i: (i.batch, i.path))
    report.repaired.sort(key=lambda i: (i.batch, i.path))
    return report


def _hash_all(
    archive: Archive,
    plans: dict[str, _Plan],
    issues: list[Issue],
    ledger: FixityLedger,
    threads: int,
    show_progress: bool | None,
) -> tuple[int, int]:
    jobs = [
        (archive.files_dir / batch / path, batch, path, st)
        for batch, plan in plans.items()
        for path, st in plan.to_hash
    ]
    meta = {job[0]: job for job in jobs}
    total = sum(st.st_size for *_, st in jobs)
    rows: dict[str, list[tuple[str, int | None, int | None, str | None, str]]] = {}
    done_bytes = 0
    with progress(
        transfer=True, disable=None if show_progress is None else not show_progress
    ) as bar:
        task = bar.add_task("verify", total=total)
        for full, size, digest, error in hash_many(
            (j[0] for j in jobs), threads, lambda _p, n: bar.advance(task, n)
        ):
            _, batch, path, st = meta[full]
            plan = plans[batch]
            f = plan.expected[path]
            done_bytes += size
            if error is None and digest == f.sha256:
                plan.counts.ok += 1
                status = "ok"
            else:
                plan.counts.corrupt += 1
                status = "corrupt"
                reason = error or f"sha256 {digest}, index says {f.sha256}"
                issues.append(Issue(batch, path, "corrupt", reason, f.track_id))
            rows.setdefault(batch, []).append((path, st.st_size, st.st_mtime_ns, digest, status))
    for batch, batch_rows in rows.items():
        ledger.record(batch, batch_rows)
    return done_bytes, len(jobs)


def _repair(
    archive: Archive,
    report: VerifyReport,
    plans: dict[str, _Plan],
    ledger: FixityLedger,
    peers: Sequence[str],
    listen: str | None,
    show_progress: bool | None,
) -> None:
    """Re-fetch corrupt and lost files; the bad copy goes to state/quarantine only once the good one is verified."""
    targets = [
        i for i in report.issues if i.status == "corrupt" or (i.status == "missing" and i.lost)
    ]
    if not targets:
        return
    wanted = [plans[i.batch].expected[i.path] for i in targets]
    results = download_files(
        archive, wanted, peers=peers, listen=listen, show_progress=show_progress
    ).files
    fixed = {(r.batch, r.path): r for r in results if r.status == "fetched"}
    failed = {(r.batch, r.path): r.reason for r in results if r.status == "failed"}
    # Re-verify what is now in place, independently of the download's own check.
    paths = [archive.files_dir / b / p for b, p in fixed]
    rehashed = {full: digest for full, _, digest, _ in hash_many(paths)}
    for issue in targets:
        key = (issue.batch, issue.path)
        f = plans[issue.batch].expected[issue.path]
        res = fixed.get(key)
        if (
            res is not None
            and rehashed.get(archive.files_dir / issue.batch / issue.path) == f.sha256
        ):
            report.issues.remove(issue)
            counts = plans[issue.batch].counts
            counts.repaired += 1
            counts.ok += 1
            if issue.status == "corrupt":
                counts.corrupt -= 1
            else:
                counts.missing -= 1
            report.repaired.append(
                Issue(
                    issue.batch,
                    issue.path,
                    "repaired",
                    f"was {issue.status}: {issue.reason or 'absent'}",
                    issue.track_id,
                    moved_to=res.replaced,
                )
            )
        else:
            issue.reason = f"{issue.reason}; repair failed: {failed.get(key, 'not re-verified')}"
