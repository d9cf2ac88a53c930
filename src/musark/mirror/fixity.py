"""The fixity ledger of a mirror (``state/fixity.sqlite3``): when each file was last verified, and how."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from musark.archive import Archive

LEDGER_NAME = "fixity.sqlite3"

_DDL = """
CREATE TABLE IF NOT EXISTS fixity (
    batch TEXT NOT NULL,
    path TEXT NOT NULL,             -- inside the batch folder: 'data/<track_id>.<ext>'
    size INTEGER,
    mtime_ns INTEGER,
    sha256 TEXT,                    -- what was read (NULL when unreadable)
    status TEXT NOT NULL,           -- ok | corrupt | missing
    checked_at REAL NOT NULL,       -- unix time of the last check
    last_ok_at REAL,                -- unix time of the last check that matched the index
    PRIMARY KEY (batch, path)
);
"""


@dataclass(frozen=True)
class FixityRecord:
    """One row of the ledger."""

    batch: str
    path: str
    size: int | None
    mtime_ns: int | None
    sha256: str | None
    status: str
    checked_at: float
    last_ok_at: float | None


class FixityLedger:
    """Read and update the fixity ledger of one mirror."""

    def __init__(self, archive: Archive) -> None:
        archive.state_dir.mkdir(parents=True, exist_ok=True)
        self.path = archive.state_dir / LEDGER_NAME
        self.con = sqlite3.connect(self.path, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode = WAL")
        self.con.execute("PRAGMA synchronous = NORMAL")
        self.con.executescript(_DDL)

    def batch(self, batch: str) -> dict[str, FixityRecord]:
        """Every record of one batch, keyed by path."""
        rows = self.con.execute("SELECT * FROM fixity WHERE batch = ?", (batch,))
        return {r[1]: FixityRecord(*r) for r in rows}

    def record(
        self,
        batch: str,
        rows: Iterable[tuple[str, int | None, int | None, str | None, str]],
        when: float | None = None,
    ) -> None:
        """Store (path, size, mtime_ns, sha256, status) checks made at ``when`` (default: now)."""
        when = time.time() if when is None else when
        self.con.executemany(
            """INSERT INTO fixity(batch, path, size, mtime_ns, sha256, status, checked_at, last_ok_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 'ok' THEN ? END)
               ON CONFLICT(batch, path) DO UPDATE SET size = excluded.size,
                 mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, status = excluded.status,
                 checked_at = excluded.checked_at,
                 last_ok_at = coalesce(excluded.last_ok_at, fixity.last_ok_at)""",
            [(batch, p, s, m, h, st, when, st, when) for p, s, m, h, st in rows],
        )
        self.con.commit()

    def close(self) -> None:
        """Close the ledger."""
        self.con.close()
