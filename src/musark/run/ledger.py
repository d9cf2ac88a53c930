"""The job ledger ``ARCHIVE/ledger.sqlite3``: which job is done, quarantined or failed, and why.

A result lands here the moment a worker returns it; the catalogue is updated from the ledger in
chunks. After a crash, results in the ledger but not yet in the catalogue are replayed, so no
finished work is lost and nothing is done twice.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    stage TEXT NOT NULL,          -- e.g. 'process'
    key TEXT NOT NULL,            -- the job's id (a track id)
    batch TEXT,                   -- the batch it belongs to
    status TEXT NOT NULL,         -- done | quarantined | failed
    reason TEXT,                  -- why it failed or was quarantined
    record TEXT NOT NULL,         -- the result as JSON
    synced INTEGER NOT NULL DEFAULT 0,  -- 1 once written to the catalogue
    attempts INTEGER NOT NULL DEFAULT 1,
    updated_at REAL NOT NULL,     -- unix time
    PRIMARY KEY (stage, key)
);
CREATE INDEX IF NOT EXISTS jobs_unsynced ON jobs (stage, synced);
"""


class Ledger:
    """A small SQLite table of job outcomes, safe against kill -9 (WAL, one transaction per chunk)."""

    def __init__(self, path: Path, stage: str) -> None:
        self.stage = stage
        self.con = sqlite3.connect(str(path), timeout=60)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.executescript(SCHEMA)

    def add(self, results: Iterable[dict[str, Any]], key: str = "track_id") -> None:
        """Record outcomes (each a dict with ``key``, batch, status, error) in one transaction."""
        now = time.time()
        rows = [
            (
                self.stage,
                r[key],
                r.get("batch"),
                r["status"],
                r.get("error"),
                json.dumps(r, sort_keys=True),
                now,
            )
            for r in results
        ]
        with self.con:
            self.con.executemany(
                """INSERT INTO jobs (stage, key, batch, status, reason, record, synced, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 0, ?)
                   ON CONFLICT (stage, key) DO UPDATE SET
                     batch=excluded.batch, status=excluded.status, reason=excluded.reason,
                     record=excluded.record, synced=0, attempts=attempts+1,
                     updated_at=excluded.updated_at""",
                rows,
            )

    def unsynced(self) -> Iterator[tuple[dict[str, Any], float]]:
        """Finished results (done/quarantined) not yet written to the catalogue, with their time."""
        cur = self.con.execute(
            "SELECT record, updated_at FROM jobs WHERE stage=? AND synced=0 AND status!='failed' "
            "ORDER BY key",
            (self.stage,),
        )
        for record, updated in cur:
            yield json.loads(record), updated

    def mark_synced(self, keys: Iterable[str]) -> None:
        """Note that these jobs' results are in the catalogue."""
        with self.con:
            self.con.executemany(
                "UPDATE jobs SET synced=1 WHERE stage=? AND key=?",
                [(self.stage, k) for k in keys],
            )

    def get(self, key: str) -> dict[str, Any] | None:
        """The ledger row of one job."""
        row = self.con.execute(
            "SELECT key, batch, status, reason, attempts, updated_at, synced FROM jobs "
            "WHERE stage=? AND key=?",
            (self.stage, key),
        ).fetchone()
        if row is None:
            return None
        cols = ("key", "batch", "status", "reason", "attempts", "updated_at", "synced")
        return dict(zip(cols, row, strict=True))

    def summary(self) -> list[dict[str, Any]]:
        """Counts per batch and status."""
        cur = self.con.execute(
            "SELECT batch, status, count(*) FROM jobs WHERE stage=? GROUP BY 1, 2 ORDER BY 1, 2",
            (self.stage,),
        )
        return [{"batch": b, "status": s, "count": n} for b, s, n in cur]

    def close(self) -> None:
        """Close the database."""
        self.con.close()
