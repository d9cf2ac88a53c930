"""`musark plan`: choose tracks under a byte budget or a coverage target, dedup, exclude, batch.

Everything runs as DuckDB set operations over temp tables (joins, window functions, sorts that
spill to disk), so memory stays bounded by [catalog] memory_limit at any catalogue size.

Selection is a greedy knapsack: units (a track, or one ISRC group in a dedup tier, whose listens
are the group's sum and whose bytes are its chosen file's) are ordered by listens per byte, and
the longest prefix that fits the budget (or the shortest one reaching the coverage) is kept. The
order does not depend on the budget, so a bigger budget always keeps a superset.

Rows of released batches are frozen: never deleted, updated or re-numbered. They count towards
the budget and the coverage first; everything else is recomputed on each run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from musark.archive import Archive
from musark.console import progress
from musark.plan.db import open_catalog
from musark.plan.exclusions import EXCLUSIONS_DDL, excluded_tracks_sql, load_exclusions
from musark.plan.model import features_sql, model_kind
from musark.plan.settings import PlanSettings, plan_settings

PLAN_CHANGES_DDL = """
CREATE TABLE IF NOT EXISTS plan_changes (
    track_id VARCHAR NOT NULL,
    old_status VARCHAR NOT NULL,    -- 'unplanned' when the track had no row
    new_status VARCHAR NOT NULL,    -- 'unplanned' when the track lost its row
    old_batch VARCHAR,
    new_batch VARCHAR,
    old_tier VARCHAR,
    new_tier VARCHAR
)"""

TRACK_FILE_COLUMNS = (
    "track_id, batch, seq_in_batch, tier, codec, target_kbps, est_bytes, status, dedup_of, "
    "ext, size, duration_ms, bitrate_kbps, sample_rate, channels, sha256, sha256_original, "
    "size_original, patch_size, processed_at, error"
)
_PROCESS_COLUMNS = (
    "ext",
    "size",
    "duration_ms",
    "bitrate_kbps",
    "sample_rate",
    "channels",
    "sha256",
    "sha256_original",
    "size_original",
    "patch_size",
    "processed_at",
    "error",
)
SAMPLE = 20


@dataclass
class PlanRequest:
    """What `musark plan` was asked for (at most one of budget_bytes / coverage)."""

    budget_bytes: int | None = None
    coverage: float | None = None
    batch_size: int | None = None
    exclude: list[Path] = field(default_factory=list)

    def mode(self) -> str:
        """'budget', 'coverage' or 'all' (no limit: every tiered track)."""
        if self.budget_bytes is not None and self.coverage is not None:
            raise ValueError("give either a budget or a coverage target, not both")
        if self.budget_bytes is not None:
            if self.budget_bytes < 0:
                raise ValueError("the budget must not be negative")
            return "budget"
        if self.coverage is not None:
            if not 0 < self.coverage <= 100:
                raise ValueError(f"coverage {self.coverage} must be within (0, 100] percent")
            return "coverage"
        return "all"


def batch_name(tier: str, seq: int) -> str:
    """The batch naming scheme: '<tier>__<seq, 4+ digits>', e.g. 'keep__0001'."""
    return f"{tier}__{seq:04d}"


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _candidate_filter(ps: PlanSettings) -> str:
    lowest = ps.lowest_tier.name.replace("'", "''")
    cut = ps.secondary_min_score
    below = (
        f"(tier = '{lowest}' AND streams IS NULL AND secondary < {cut!r})" if cut > 0 else "false"
    )
    return f"NOT frozen AND NOT excluded AND tier IS NOT NULL AND NOT {below}"


def _selection_filter(req: PlanRequest, base_bytes: int, base_listens: float, total: float) -> str:
    mode = req.mode()
    if mode == "budget":
        return f"cum_bytes <= {int(req.budget_bytes) - base_bytes}"
    if mode == "coverage":
        target = req.coverage / 100.0 * total
        return f"{base_listens!r} + cum_listens - unit_listens < {target!r}"
    return "true"


def _steps(ps: PlanSettings, req: PlanRequest, facts: dict[str, Any]) -> list[tuple[str, Callable]]:
    """The plan as named phases; each runs SQL on the connection (and may record facts)."""

    def frozen(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(PLAN_CHANGES_DDL)
        facts["new_exclusions"] = load_exclusions(con, req.exclude)
        con.execute(EXCLUSIONS_DDL)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _released AS "
            "SELECT name, tier, seq FROM batches WHERE status = 'released'"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _frozen AS SELECT * FROM track_files "
            "WHERE batch IN (SELECT name FROM _released)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _old AS SELECT * FROM track_files "
            "WHERE batch IS NULL OR batch NOT IN (SELECT name FROM _released)"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _excl AS {excluded_tracks_sql()}")

    def features(con: duckdb.DuckDBPyConnection) -> None:
        # Real sizes beat estimates: the processed file (same tier), else a kept source file.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _f AS
            SELECT f.*, fr.track_id IS NOT NULL AS frozen, x.track_id IS NOT NULL AS excluded,
                   CASE WHEN o.status = 'done' AND o.tier = f.tier AND o.size IS NOT NULL THEN o.size
                        WHEN f.action = 'keep' AND f.audio_size IS NOT NULL THEN f.audio_size
                        ELSE f.est_bytes END AS bytes
            FROM ({features_sql(ps)}) f
            LEFT JOIN (SELECT DISTINCT track_id FROM _frozen) fr ON fr.track_id = f.track_id
            LEFT JOIN _excl x ON x.track_id = f.track_id
            LEFT JOIN _old o ON o.track_id = f.track_id
            """
        )

    def dedup(con: duckdb.DuckDBPyConnection) -> None:
        # A recording already in a released batch stands for its ISRC in every dedup tier.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _frozen_isrc AS
            SELECT isrc, min(track_id) AS rep FROM _f
            WHERE frozen AND NOT excluded AND isrc IS NOT NULL GROUP BY isrc
            """
        )
        cand = _candidate_filter(ps)
        cols = "track_id, tier, popularity, listens, bytes, secondary, action, kbps"
        # Best candidate of an ISRC group: has source audio, most listens, best secondary score,
        # longest, then smallest id (a total order, so re-runs choose the same file).
        best = (
            "PARTITION BY tier, isrc ORDER BY (audio_size IS NOT NULL) DESC, listens DESC, "
            "secondary DESC, duration_ms DESC NULLS LAST, track_id"
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _cand AS
            SELECT {cols}, track_id AS rep, false AS rep_frozen, listens AS unit_listens
            FROM _f WHERE {cand} AND NOT (dedup AND isrc IS NOT NULL)
            UNION ALL
            SELECT {cols}, fi.rep, true, listens
            FROM _f JOIN _frozen_isrc fi USING (isrc) WHERE {cand} AND dedup
            UNION ALL
            SELECT {cols}, first_value(track_id) OVER (w),
                   false, sum(listens) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            FROM _f WHERE {cand} AND dedup AND isrc IS NOT NULL
                AND isrc NOT IN (SELECT isrc FROM _frozen_isrc)
            WINDOW w AS ({best})
            """
        )

    def select(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _order AS
            SELECT track_id, unit_listens,
                   sum(bytes) OVER o AS cum_bytes, sum(unit_listens) OVER o AS cum_listens
            FROM _cand WHERE rep = track_id
            WINDOW o AS (ORDER BY unit_listens / greatest(bytes, 1) DESC, secondary DESC,
                         popularity DESC NULLS LAST, track_id ROWS UNBOUNDED PRECEDING)
            """
        )
        base_bytes = _one(con, "SELECT coalesce(sum(coalesce(size, est_bytes)), 0) FROM _frozen")
        base_listens = _one(
            con,
            "SELECT coalesce((SELECT sum(listens) FROM _f WHERE frozen), 0) "
            "+ coalesce((SELECT sum(listens) FROM _cand WHERE rep_frozen), 0)",
        )
        total = _one(con, "SELECT coalesce(sum(listens), 0) FROM _f")
        facts.update(
            base_bytes=int(base_bytes), base_listens=float(base_listens), total=float(total)
        )
        where = _selection_filter(req, int(base_bytes), float(base_listens), float(total))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _selected AS SELECT track_id, unit_listens "
            f"FROM _order WHERE {where}"
        )

    def batches(con: duckdb.DuckDBPyConnection) -> None:
        bs = ps.batch_size
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _files AS
            SELECT c.track_id, c.tier, c.popularity, c.action, c.kbps, c.bytes,
                   coalesce(rs.max_seq, 0) + 1 + r // {bs} AS seq, (r % {bs})::INTEGER AS seq_in_batch
            FROM (
                SELECT c.*, row_number() OVER (PARTITION BY c.tier ORDER BY c.popularity DESC NULLS LAST,
                                               c.listens DESC, c.track_id) - 1 AS r
                FROM _cand c SEMI JOIN _selected s ON s.track_id = c.track_id
            ) c
            LEFT JOIN (SELECT tier, max(seq) AS max_seq FROM _released GROUP BY tier) rs USING (tier)
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _new AS
            SELECT track_id, printf('%s__%04d', tier, seq) AS batch, seq_in_batch, tier,
                   action AS codec, kbps::INTEGER AS target_kbps, bytes AS est_bytes,
                   'planned' AS status, NULL::VARCHAR AS dedup_of
            FROM _files
            UNION ALL
            SELECT c.track_id, NULL, NULL, c.tier, NULL, NULL, NULL, 'dedup', c.rep
            FROM _cand c WHERE c.rep_frozen
               OR (c.rep <> c.track_id AND c.rep IN (SELECT track_id FROM _selected))
            UNION ALL
            SELECT track_id, NULL, NULL, coalesce(tier, 'none'), NULL, NULL, NULL, 'excluded', NULL
            FROM _f WHERE excluded AND NOT frozen
            """
        )
        # A processed file keeps its status and process columns while it stays where it is;
        # one that moved batch or tier must be processed again.
        keep = "(o.status IN ('done', 'quarantined') AND n.status = 'planned' AND o.batch = n.batch AND o.tier = n.tier)"
        preserved = ", ".join(f"CASE WHEN {keep} THEN o.{c} END AS {c}" for c in _PROCESS_COLUMNS)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _rows AS
            SELECT n.track_id, n.batch, n.seq_in_batch, n.tier,
                   CASE WHEN {keep} THEN o.codec ELSE n.codec END AS codec,
                   CASE WHEN {keep} THEN o.target_kbps ELSE n.target_kbps END AS target_kbps,
                   n.est_bytes,
                   CASE WHEN {keep} THEN o.status ELSE n.status END AS status,
                   n.dedup_of, {preserved}
            FROM _new n LEFT JOIN _old o ON o.track_id = n.track_id
            """
        )

    def changes(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _changes AS
            SELECT coalesce(n.track_id, o.track_id) AS track_id,
                   coalesce(o.status, 'unplanned') AS old_status,
                   coalesce(n.status, 'unplanned') AS new_status,
                   o.batch AS old_batch, n.batch AS new_batch, o.tier AS old_tier, n.tier AS new_tier
            FROM _old o FULL OUTER JOIN _rows n ON o.track_id = n.track_id
            WHERE o.status IS DISTINCT FROM n.status OR o.tier IS DISTINCT FROM n.tier
            """
        )
        facts["moved"] = _one(
            con,
            "SELECT count(*) FROM _old o JOIN _rows n USING (track_id) "
            "WHERE o.status = n.status AND o.batch IS DISTINCT FROM n.batch",
        )

    def write(con: duckdb.DuckDBPyConnection) -> None:
        # One transaction: a killed plan leaves the previous plan intact, a finished one the new.
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "DELETE FROM track_files WHERE batch IS NULL "
                "OR batch NOT IN (SELECT name FROM _released)"
            )
            con.execute(
                f"INSERT INTO track_files ({TRACK_FILE_COLUMNS}) SELECT {TRACK_FILE_COLUMNS} "
                "FROM _rows ORDER BY tier, batch NULLS LAST, seq_in_batch, track_id"
            )
            con.execute("DELETE FROM batches WHERE status <> 'released'")
            con.execute(
                """
                INSERT INTO batches (name, tier, seq, status, num_files, popularity_min,
                                     popularity_max, released_at)
                SELECT printf('%s__%04d', tier, seq), tier, seq, 'planned', count(*),
                       min(popularity), max(popularity), NULL
                FROM _files GROUP BY tier, seq ORDER BY tier, seq
                """
            )
            con.execute("DELETE FROM plan_changes")
            con.execute("INSERT INTO plan_changes SELECT * FROM _changes ORDER BY track_id")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    return [
        ("released batches and exclusions", frozen),
        ("listens model and sizes", features),
        ("tiers and ISRC dedup", dedup),
        ("selection by listens per byte", select),
        ("batches", batches),
        ("status changes", changes),
        ("writing track_files and batches", write),
    ]


def _summary(
    con: duckdb.DuckDBPyConnection, ps: PlanSettings, req: PlanRequest, facts: dict[str, Any]
) -> dict[str, Any]:
    total = facts["total"]
    covered = facts["base_listens"] + float(
        _one(con, "SELECT coalesce(sum(unit_listens), 0) FROM _selected")
    )
    n_tracks = _one(con, "SELECT count(*) FROM _f")
    tiers = _rows(
        con,
        """
        SELECT tier,
               count(*) FILTER (WHERE batch IS NOT NULL) AS files,
               coalesce(sum(coalesce(size, est_bytes)) FILTER (WHERE batch IS NOT NULL), 0)::BIGINT AS bytes,
               count(*) FILTER (WHERE status = 'dedup') AS dedup,
               count(*) FILTER (WHERE status = 'excluded') AS excluded,
               count(DISTINCT batch) AS batches
        FROM track_files GROUP BY tier ORDER BY tier
        """,
    )
    files = sum(t["files"] for t in tiers)
    bytes_ = sum(t["bytes"] for t in tiers)
    transitions = _rows(
        con,
        "SELECT old_status || '->' || new_status AS transition, count(*) AS tracks "
        "FROM _changes GROUP BY ALL ORDER BY transition",
    )
    sample = _rows(con, f"SELECT * FROM _changes ORDER BY track_id LIMIT {SAMPLE}")
    excluded_released = _rows(
        con,
        "SELECT fr.track_id, fr.batch, x.reason FROM _frozen fr JOIN _excl x USING (track_id) "
        "ORDER BY fr.batch, fr.track_id",
    )
    batches = _rows(
        con,
        "SELECT status, count(*) AS n FROM batches GROUP BY status ORDER BY status",
    )
    return {
        "model": {
            **model_kind(con),
            "curve": {
                "listens_at_zero": ps.listens_at_zero,
                "log10_listens_at_one": ps.log10_listens_at_one,
                "listens_slope": ps.listens_slope,
            },
        },
        "mode": req.mode(),
        "budget_bytes": req.budget_bytes,
        "coverage_target": req.coverage,
        "batch_size": ps.batch_size,
        "catalogue": {"tracks": n_tracks, "listens": total},
        "selected": {
            "files": files,
            "bytes": int(bytes_),
            "listens": covered,
            "coverage_pct": 100.0 * covered / total if total else 0.0,
            "files_pct": 100.0 * files / n_tracks if n_tracks else 0.0,
        },
        "released_bytes": facts["base_bytes"],
        "over_budget": req.mode() == "budget" and facts["base_bytes"] > int(req.budget_bytes),
        "tiers": tiers,
        "batches": {r["status"]: r["n"] for r in batches},
        "new_exclusions": facts["new_exclusions"],
        "excluded": _one(con, "SELECT count(*) FROM _excl"),
        "excluded_released": excluded_released,
        "untiered": _one(con, "SELECT count(*) FROM _f WHERE tier IS NULL"),
        "below_secondary_cutoff": _one(
            con,
            f"SELECT count(*) FROM _f WHERE NOT frozen AND NOT excluded AND tier IS NOT NULL "
            f"AND NOT ({_candidate_filter(ps)})",
        ),
        "released_missing_from_catalogue": _one(
            con, "SELECT count(*) FROM _frozen WHERE track_id NOT IN (SELECT track_id FROM _f)"
        ),
        "changes": {
            "tracks": sum(t["tracks"] for t in transitions),
            "by_transition": {t["transition"]: t["tracks"] for t in transitions},
            "moved_batch": facts["moved"],
            "sample": sample,
            "table": "plan_changes",
        },
    }


def run_plan(
    archive: Archive, req: PlanRequest, *, show_progress: bool | None = None
) -> dict[str, Any]:
    """Plan the archive (track_files + batches) and return the summary `musark plan --json` prints."""
    ps = plan_settings(archive.settings, batch_size=req.batch_size)
    req.mode()  # validate before touching anything
    if not archive.catalog_db.exists():
        raise FileNotFoundError(
            f"{archive.catalog_db}: no catalogue here; run `musark ingest` first"
        )
    facts: dict[str, Any] = {}
    con = open_catalog(archive, ps)
    try:
        steps = _steps(ps, req, facts)
        with progress(disable=None if show_progress is None else not show_progress) as prog:
            task = prog.add_task("plan", total=len(steps))
            for name, step in steps:
                prog.update(task, description=f"plan: {name}")
                step(con)
                prog.advance(task)
        return _summary(con, ps, req, facts)
    finally:
        con.close()
