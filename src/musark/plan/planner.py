"""`musark plan`: choose tracks under a byte budget or a coverage target, dedup, exclude, batch.

Everything runs as DuckDB set operations over temp tables (joins, window functions, sorts that
spill to disk), so memory stays bounded by [catalog] memory_limit at any catalogue size.

Selection is a greedy knapsack: units (a track, or one ISRC group in a dedup tier, whose listens
are the group's sum and whose bytes are its chosen file's) are ordered by listens per byte, and
the longest prefix that fits the budget (or the shortest one reaching the coverage) is kept. The
order does not depend on the budget, so a bigger budget always keeps a superset.

Rows of released batches are frozen: never deleted, updated or re-numbered. They count towards
the budget and the coverage first. Batches `process` has started keep the files still selected
in place (the files of tracks that leave them are deleted); everything else is recomputed on
each run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from musark.archive import Archive
from musark.catalog.schema import PROCESS_RESULT_COLUMNS
from musark.console import progress
from musark.plan.db import open_catalog
from musark.plan.exclusions import excluded_tracks_sql, load_exclusions
from musark.plan.model import features_sql, model_kind, tier_attr_case, tier_case, tier_in
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

# Filled by `process`; a re-plan keeps them for files that stay where they were.
_PROCESS_COLUMNS = (*PROCESS_RESULT_COLUMNS, "processed_at")
_PLAN_COLUMNS = (
    "track_id, batch, seq_in_batch, tier, codec, target_kbps, est_bytes, status, dedup_of"
)
TRACK_FILE_COLUMNS = _PLAN_COLUMNS + ", " + ", ".join(_PROCESS_COLUMNS)
SAMPLE = 20

STALE_FILES_DDL = """
CREATE TABLE IF NOT EXISTS plan_stale_files (
    batch VARCHAR NOT NULL,         -- the unreleased batch the file was made for
    track_id VARCHAR NOT NULL,      -- a track that left that batch
    ext VARCHAR                     -- its file extension (files/<batch>/data/<track_id>.<ext>)
)"""


def remove_stale_files(con: duckdb.DuckDBPyConnection, archive: Archive) -> int:
    """Delete the files and patches listed in plan_stale_files, then the list; return how many."""
    rows = con.execute("SELECT batch, track_id, ext FROM plan_stale_files").fetchall()
    for batch, track_id, ext in rows:
        if ext:
            archive.track_path(batch, track_id, ext).unlink(missing_ok=True)
        archive.patch_path(batch, track_id).unlink(missing_ok=True)
    if rows:
        con.execute("DELETE FROM plan_stale_files")
    return len(rows)


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


def _below_cut(ps: PlanSettings) -> str:
    """SQL over feature columns: a lowest-tier modelled track under the secondary cut-off."""
    if ps.secondary_min_score <= 0:
        return "false"
    lowest = ps.lowest_tier.name.replace("'", "''")
    return (
        f"(f.tier = '{lowest}' AND f.streams IS NULL AND f.secondary < {ps.secondary_min_score!r})"
    )


# Selection buckets: floor(log2(listens per byte) * 64), monotone in the greedy order's key, so
# the prefix can be found by aggregating buckets and ordering only the one bucket that straddles it.
def _bucket(listens: str) -> str:
    """SQL: the selection bucket of a unit with these listens (and column ``bytes``)."""
    return (
        f"CASE WHEN {listens} > 0 THEN floor(log2({listens} / greatest(bytes, 1)) * 64)::BIGINT "
        "ELSE -9223372036854775807 END"
    )


_GREEDY_ORDER = (
    "unit_listens / greatest(bytes, 1) DESC, secondary DESC, popularity DESC NULLS LAST, track_id"
)


def _boundary(
    con: duckdb.DuckDBPyConnection, req: PlanRequest, facts: dict[str, Any]
) -> tuple[int, str] | None:
    """The bucket straddling the greedy prefix and the condition inside it; None: keep every unit."""
    mode = req.mode()
    if mode == "all":
        return None
    if mode == "budget":
        room = int(req.budget_bytes) - facts["base_bytes"]
        reached = f"cb > {room}"
    else:
        target = req.coverage / 100.0 * facts["total"]
        reached = f"{facts['base_listens']} + cl >= {target!r}"
    row = con.execute(
        f"""
        WITH b AS (SELECT bucket, sum(bytes) AS sb, sum(unit_listens) AS sl
                   FROM _units GROUP BY bucket),
             c AS (SELECT bucket, sb, sl, sum(sb) OVER (ORDER BY bucket DESC) AS cb,
                          sum(sl) OVER (ORDER BY bucket DESC) AS cl FROM b)
        SELECT bucket, cb - sb, cl - sl FROM c WHERE {reached} ORDER BY bucket DESC LIMIT 1
        """
    ).fetchall()
    if not row:
        return None
    bucket, prev_bytes, prev_listens = row[0]
    if mode == "budget":
        inside = f"{prev_bytes} + cum_bytes <= {room}"
    else:
        inside = (
            f"{facts['base_listens']} + {prev_listens} + cum_listens - unit_listens < {target!r}"
        )
    return bucket, inside


def batch_name_sql(tier: str, seq: str) -> str:
    """SQL: batch_name() of two columns (concatenation: cheaper than printf per row)."""
    return (
        f"{tier} || '__' || CASE WHEN {seq} < 10000 THEN lpad({seq}::VARCHAR, 4, '0') "
        f"ELSE {seq}::VARCHAR END"
    )


def _started_batches(con: duckdb.DuckDBPyConnection, archive: Archive) -> list[str]:
    """Unreleased batches `process` has begun: a done/quarantined row, or files in its folder.

    The folder counts too: a killed `process` may have made files whose results are still only
    in the ledger (replayed into track_files by the next `process` run).
    """
    rows = con.execute(
        "SELECT b.name, EXISTS (SELECT 1 FROM track_files tf WHERE tf.batch = b.name "
        "AND tf.status IN ('done', 'quarantined')) FROM batches b WHERE b.status <> 'released' "
        "ORDER BY b.name"
    ).fetchall()
    started = []
    for name, has_results in rows:
        if has_results:
            started.append(name)
            continue
        data = archive.files_dir / name / "data"
        if data.is_dir() and any(data.iterdir()):
            started.append(name)
    return started


def _steps(
    archive: Archive, ps: PlanSettings, req: PlanRequest, facts: dict[str, Any]
) -> list[tuple[str, Callable]]:
    """The plan as named phases; each runs SQL on the connection (and may record facts)."""

    def frozen(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(PLAN_CHANGES_DDL)
        con.execute(STALE_FILES_DDL)
        remove_stale_files(con, archive)  # left by a plan killed after its commit
        facts["new_exclusions"] = load_exclusions(con, req.exclude)
        facts["model"] = model_kind(con)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _released AS "
            "SELECT name, tier, seq FROM batches WHERE status = 'released'"
        )
        started = _started_batches(con, archive)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _started AS SELECT name, tier, seq FROM batches "
            "WHERE status <> 'released' AND list_contains(?, name)",
            [started],
        )
        facts["n_started"] = len(started)
        # Views, not copies: track_files is only written by the last step.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _frozen AS SELECT * FROM track_files "
            "WHERE batch IN (SELECT name FROM _released)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _old AS SELECT * FROM track_files "
            "WHERE batch IS NULL OR batch NOT IN (SELECT name FROM _released)"
        )
        facts["n_frozen"] = _one(con, "SELECT count(*) FROM _frozen")
        facts["n_old"] = _one(con, "SELECT count(*) FROM _old")
        facts["n_processed"] = _one(
            con, "SELECT count(*) FROM _old WHERE status IN ('done', 'quarantined')"
        )
        if _one(con, "SELECT count(*) FROM plan_exclusions"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE _excl AS {excluded_tracks_sql()}")
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE _excl (track_id VARCHAR, reason VARCHAR)")
        facts["n_excluded"] = _one(con, "SELECT count(*) FROM _excl")

    def features(con: duckdb.DuckDBPyConnection) -> None:
        # Joins against empty sets are skipped: a first plan is one pass over the catalogue.
        joins, frozen, excluded = [], "false", "false"
        if facts["n_frozen"]:
            joins.append(
                "LEFT JOIN (SELECT DISTINCT track_id FROM _frozen) fr ON fr.track_id = f.track_id"
            )
            frozen = "fr.track_id IS NOT NULL"
        if facts["n_excluded"]:
            joins.append("LEFT JOIN _excl x ON x.track_id = f.track_id")
            excluded = "x.track_id IS NOT NULL"
        # Real sizes beat estimates: the processed file (same tier), else a kept source file.
        processed = "NULL"
        if facts["n_processed"]:
            joins.append(
                "LEFT JOIN (SELECT track_id, tier, size FROM _old WHERE status = 'done' "
                "AND size IS NOT NULL) o ON o.track_id = f.track_id AND o.tier = f.tier"
            )
            processed = "o.size"
        # Most ISRCs have one track: only groups of two or more need the (costly) choice of a
        # best candidate. They are found from the catalogue alone (a key-only count, before the
        # joins); a group whose other tracks turn out excluded or frozen is a unit of one all
        # the same, so this superset gives the same plan.
        dedup_tiers = [t.name for t in ps.tiers if t.dedup_isrc]
        # The dedup tiers' popularity ranges filter the scan before the tier is computed (a
        # superset: a popularity an earlier tier takes is dropped by the tier test after it).
        in_dedup = [
            f"t.popularity BETWEEN {t.min_popularity} AND {t.max_popularity}"
            for t in ps.tiers
            if t.dedup_isrc
        ]
        if ps.tier(ps.unknown_popularity_tier).dedup_isrc:
            in_dedup.append("t.popularity IS NULL")
        # With one dedup tier (the usual setup) the groups are keyed by ISRC alone: only rows of
        # that tier are counted, and only they probe.
        one_tier = len(dedup_tiers) == 1
        key = "isrc" if one_tier else "tier, isrc"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _multi AS
            SELECT {key} FROM (SELECT {tier_case(ps)} AS tier, t.isrc FROM tracks t
                               WHERE t.isrc IS NOT NULL AND ({" OR ".join(in_dedup) or "false"}))
            WHERE {tier_in(ps, dedup_tiers)} GROUP BY {key} HAVING count(*) > 1
            """
        )
        multi = "false"
        if _one(con, "SELECT count(*) FROM _multi"):
            # Only dedup tiers use the flag: other rows probe with a NULL key, which the hash
            # join drops before looking anything up.
            same_tier = "" if one_tier else "m.tier = f.tier AND "
            joins.append(
                f"LEFT JOIN _multi m ON {same_tier}m.isrc = CASE WHEN f.dedup THEN f.isrc END"
            )
            multi = "m.isrc IS NOT NULL"
        # Narrow rows (the ISRC and the dedup rule's inputs only where they are used) keep this
        # table, the biggest of the plan, small enough to stay in memory. Without released
        # batches no track can be deduplicated onto a frozen one: only groups need the ISRC.
        keep_isrc = "true" if facts["n_frozen"] else "multi"
        # Flags that are false for every track (no released batch, no exclusion, no cut-off: a
        # first plan) are not stored 10 M times: view _f adds them to table _fdata as constants.
        flags = {"frozen": frozen, "excluded": excluded, "below_cut": _below_cut(ps)}
        stored = "".join(f"{k}, " for k, v in flags.items() if v != "false")
        constant = "".join(f", false AS {k}" for k, v in flags.items() if v == "false")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _fdata AS
            SELECT track_id, tier, popularity, listens, bytes, secondary, dedup, {stored}
                   cand, cand AND dedup AND multi AS multi,
                   {_bucket("listens")} AS bucket,
                   CASE WHEN frozen OR (cand AND dedup AND {keep_isrc}) THEN isrc END AS isrc,
                   CASE WHEN cand AND dedup AND multi THEN has_audio END AS has_audio,
                   CASE WHEN cand AND dedup AND multi THEN duration_ms END AS duration_ms
            FROM (
                SELECT *, NOT frozen AND NOT excluded AND tier IS NOT NULL AND NOT below_cut AS cand
                FROM (
                    SELECT f.track_id, f.popularity, f.isrc, f.duration_ms, f.tier, f.secondary,
                           f.audio_size IS NOT NULL AS has_audio, f.listens, f.dedup,
                           {frozen} AS frozen, {excluded} AS excluded, {multi} AS multi,
                           {_below_cut(ps)} AS below_cut,
                           coalesce({processed}, CASE WHEN f.keeps_source THEN f.audio_size END,
                                    f.est_bytes) AS bytes
                    FROM ({features_sql(ps)}) f {" ".join(joins)}
                )
            )
            """
        )
        con.execute(f"CREATE OR REPLACE TEMP VIEW _f AS SELECT *{constant} FROM _fdata")
        # Every figure later steps and the summary need from all tracks, in one scan.
        (
            facts["n_tracks"],
            facts["total"],
            facts["untiered"],
            facts["below_cut"],
            facts["frozen_listens"],
            facts["frozen_found"],
        ) = con.execute(
            """
            SELECT count(*), coalesce(sum(listens), 0), count(*) FILTER (WHERE tier IS NULL),
                   count(*) FILTER (WHERE below_cut AND NOT frozen AND NOT excluded),
                   coalesce(sum(listens) FILTER (WHERE frozen), 0), count(*) FILTER (WHERE frozen)
            FROM _f
            """
        ).fetchall()[0]

    def dedup(con: duckdb.DuckDBPyConnection) -> None:
        # A recording already in a released batch stands for its ISRC in every dedup tier.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _frozen_isrc AS
            SELECT isrc, min(track_id) AS rep FROM _f
            WHERE frozen AND NOT excluded AND isrc IS NOT NULL GROUP BY isrc
            """
        )
        facts["n_frozen_isrc"] = _one(con, "SELECT count(*) FROM _frozen_isrc")
        onto_frozen = (
            "coalesce(f.dedup AND f.isrc IN (SELECT isrc FROM _frozen_isrc), false)"
            if facts["n_frozen_isrc"]
            else "false"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _onto AS "
            + (
                "SELECT f.track_id, f.tier, f.listens, fi.rep FROM _f f "
                "JOIN _frozen_isrc fi USING (isrc) WHERE f.cand AND f.dedup"
                if facts["n_frozen_isrc"]
                else "SELECT track_id, tier, listens, NULL::VARCHAR AS rep FROM _f WHERE false"
            )
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _members AS
            SELECT track_id, tier, isrc, popularity, listens, bytes, secondary, has_audio,
                   duration_ms
            FROM _f f WHERE f.multi AND NOT {onto_frozen}
            """
        )
        # A unit is what selection weighs: a track, or a whole ISRC group of a dedup tier
        # represented by its best candidate: has source audio, most listens, best secondary
        # score, longest, then smallest id (a total order, so re-runs choose the same file).
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _groups AS
            SELECT r.t AS track_id, tier, r.p AS popularity, -r.l AS listens, r.b AS bytes,
                   -r.s AS secondary, unit_listens, n, isrc
            FROM (
                -- min() of (ranking key..., track_id, payload): ids are unique, so the
                -- payload after them never decides, and one aggregate yields the winner.
                SELECT tier, isrc, sum(listens) AS unit_listens, count(*) AS n,
                       min(struct_pack(a := NOT has_audio, l := -listens, s := -secondary,
                                       d := -coalesce(duration_ms, -1), t := track_id,
                                       p := popularity, b := bytes)) AS r
                FROM _members GROUP BY tier, isrc
            )
            """
        )
        # Single tracks are read from _f where they are, not copied: selection scans this twice.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW _units AS
            SELECT track_id, tier, popularity, listens, bytes, secondary,
                   listens AS unit_listens, 1 AS n, NULL::VARCHAR AS isrc, bucket
            FROM _f f WHERE f.cand AND NOT f.multi AND NOT {onto_frozen}
            UNION ALL
            SELECT *, {_bucket("unit_listens")} AS bucket FROM _groups
            """
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _xrows AS SELECT track_id, coalesce(tier, 'none') AS "
            "tier FROM _f WHERE excluded AND NOT frozen"
        )

    def select(con: duckdb.DuckDBPyConnection) -> None:
        facts["base_bytes"] = int(
            _one(con, "SELECT coalesce(sum(coalesce(size, est_bytes)), 0) FROM _frozen")
        )
        facts["base_listens"] = int(facts["frozen_listens"]) + int(
            _one(con, "SELECT coalesce(sum(listens), 0) FROM _onto")
        )
        facts["total"] = int(facts["total"])
        bounds = _boundary(con, req, facts)
        cols = "track_id, tier, popularity, listens, bytes, unit_listens, n, isrc"
        if bounds is None:
            sql = f"SELECT {cols} FROM _units"
        else:
            bucket, inside = bounds
            sql = f"""
                SELECT {cols} FROM _units WHERE bucket > {bucket}
                UNION ALL
                SELECT {cols} FROM (
                    SELECT *, sum(bytes) OVER o AS cum_bytes, sum(unit_listens) OVER o AS cum_listens
                    FROM _units WHERE bucket = {bucket}
                    WINDOW o AS (ORDER BY {_GREEDY_ORDER} ROWS UNBOUNDED PRECEDING)
                ) WHERE {inside}
            """
        con.execute(f"CREATE OR REPLACE TEMP TABLE _selected AS {sql}")
        facts["selected_listens"] = int(
            _one(con, "SELECT coalesce(sum(unit_listens), 0) FROM _selected")
        )
        # Everything later steps need is in the small tables: free the memory for the sort.
        con.execute("DROP VIEW _units")
        con.execute("DROP TABLE _groups")
        con.execute("DROP VIEW _f")
        con.execute("DROP TABLE _fdata")

    def batches(con: duckdb.DuckDBPyConnection) -> None:
        bs = ps.batch_size
        # A started batch keeps every file still selected in its tier, where it is: files
        # `process` made stay valid, and the batch folder never disagrees with the plan.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _pinned AS
            SELECT o.track_id, o.batch, o.seq_in_batch, st.seq
            FROM _old o JOIN _started st ON st.name = o.batch
            JOIN _selected s ON s.track_id = o.track_id AND s.tier = o.tier
            """
        )
        # Other files are numbered after the tier's highest released or started batch, in
        # popularity order. Offsets per (tier, popularity, listens) from a small count let the
        # sort run per group, by id only. Modelled listens take few values per popularity;
        # real stream counts nearly one per track, so then the groups are per popularity.
        modelled = not facts["model"]["tracks_with_streams"]
        by_listens = "listens" if modelled else "grp"
        order = "f.track_id" if modelled else "f.listens DESC, f.track_id"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _files AS
            WITH free AS (
                SELECT s.track_id, s.tier, s.popularity, s.listens, s.bytes, 0 AS grp
                FROM _selected s ANTI JOIN _pinned p USING (track_id)
            ),
            counts AS (
                SELECT tier, popularity, {by_listens}, count(*) AS c FROM free
                GROUP BY tier, popularity, {by_listens}
            ),
            offsets AS (
                SELECT tier, popularity, {by_listens},
                       sum(c) OVER (PARTITION BY tier ORDER BY popularity DESC NULLS LAST,
                                    {by_listens} DESC ROWS UNBOUNDED PRECEDING) - c AS off
                FROM counts
            ),
            base AS (
                SELECT tier, max(seq) AS max_seq FROM
                (SELECT tier, seq FROM _released UNION ALL SELECT tier, seq FROM _started)
                GROUP BY tier
            ),
            numbered AS (
                SELECT f.track_id, f.tier, f.popularity, f.bytes,
                       o.off + row_number() OVER (PARTITION BY f.tier, f.popularity,
                                                               f.{by_listens}
                                                  ORDER BY {order}) - 1 AS r
                FROM free f JOIN offsets o
                     ON o.tier = f.tier AND o.popularity IS NOT DISTINCT FROM f.popularity
                        AND o.{by_listens} IS NOT DISTINCT FROM f.{by_listens}
            )
            SELECT n.track_id, n.tier, n.popularity, n.bytes,
                   coalesce(b.max_seq, 0) + 1 + r // {bs} AS seq,
                   (r % {bs})::INTEGER AS seq_in_batch
            FROM numbered n LEFT JOIN base b USING (tier)
            UNION ALL
            SELECT p.track_id, s.tier, s.popularity, s.bytes, p.seq, p.seq_in_batch
            FROM _pinned p JOIN _selected s USING (track_id)
            """
        )
        # Each batch's row, named once: the files take their batch name from it by a join on
        # (tier, seq) against a few rows, cheaper than formatting the name for every file.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _batch_rows AS
            SELECT tier, seq, {batch_name_sql("tier", "seq")} AS name, count(*) AS num_files,
                   min(popularity) AS popularity_min, max(popularity) AS popularity_max
            FROM _files GROUP BY tier, seq
            """
        )
        onto_frozen = (
            """
            UNION ALL
            SELECT track_id, NULL, NULL, tier, NULL, NULL, NULL, 'dedup', rep FROM _onto"""
            if facts["n_frozen_isrc"]
            else ""
        )
        new = f"""
            SELECT f.track_id, b.name AS batch, f.seq_in_batch, f.tier,
                   {tier_attr_case(ps, "action", "f.tier")} AS codec,
                   {tier_attr_case(ps, "kbps", "f.tier")}::INTEGER AS target_kbps,
                   f.bytes AS est_bytes, 'planned' AS status, NULL::VARCHAR AS dedup_of
            FROM _files f JOIN _batch_rows b ON b.tier = f.tier AND b.seq = f.seq
            UNION ALL
            SELECT m.track_id, NULL, NULL, m.tier, NULL, NULL, NULL, 'dedup', s.track_id
            FROM _members m JOIN (SELECT tier, isrc, track_id FROM _selected WHERE n > 1) s
                 ON m.tier = s.tier AND m.isrc = s.isrc
            WHERE m.track_id <> s.track_id {onto_frozen}
            UNION ALL
            SELECT track_id, NULL, NULL, tier, NULL, NULL, NULL, 'excluded', NULL FROM _xrows
        """
        if not facts["n_processed"]:
            # No process results to keep: the insert leaves those columns to their NULL
            # default, which DuckDB stores for less than NULL constants selected per row.
            rows = new
            facts["columns"] = _PLAN_COLUMNS
        else:
            facts["columns"] = TRACK_FILE_COLUMNS
            # A processed file keeps its status and process columns while it stays where it
            # is (a started batch keeps its files in place, so only dropped files lose them).
            keep = (
                "(o.status IN ('done', 'quarantined') AND n.status = 'planned' "
                "AND o.batch = n.batch AND o.tier = n.tier)"
            )
            preserved = ", ".join(
                f"CASE WHEN {keep} THEN o.{c} END AS {c}" for c in _PROCESS_COLUMNS
            )
            rows = f"""
                SELECT n.track_id, n.batch, n.seq_in_batch, n.tier,
                       CASE WHEN {keep} THEN o.codec ELSE n.codec END AS codec,
                       CASE WHEN {keep} THEN o.target_kbps ELSE n.target_kbps END AS target_kbps,
                       n.est_bytes,
                       CASE WHEN {keep} THEN o.status ELSE n.status END AS status,
                       n.dedup_of, {preserved}
                FROM ({new}) n
                LEFT JOIN (SELECT * FROM _old WHERE status IN ('done', 'quarantined')) o
                       ON o.track_id = n.track_id
            """
        # A first plan compares against nothing, so its rows go straight to the insert.
        kind = "TABLE" if facts["n_old"] else "VIEW"
        con.execute(f"CREATE OR REPLACE TEMP {kind} _rows AS {rows}")

    def changes(con: duckdb.DuckDBPyConnection) -> None:
        if not facts["n_old"]:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _diff (track_id VARCHAR, old_status VARCHAR, "
                "new_status VARCHAR, old_batch VARCHAR, new_batch VARCHAR, old_tier VARCHAR, "
                "new_tier VARCHAR)"
            )
        else:
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE _diff AS
                SELECT coalesce(n.track_id, o.track_id) AS track_id,
                       coalesce(o.status, 'unplanned') AS old_status,
                       coalesce(n.status, 'unplanned') AS new_status,
                       o.batch AS old_batch, n.batch AS new_batch,
                       o.tier AS old_tier, n.tier AS new_tier
                FROM (SELECT track_id, status, batch, tier FROM _old) o
                FULL OUTER JOIN (SELECT track_id, status, batch, tier FROM _rows) n
                     ON o.track_id = n.track_id
                WHERE o.status IS DISTINCT FROM n.status OR o.tier IS DISTINCT FROM n.tier
                   OR o.batch IS DISTINCT FROM n.batch
                """
            )
        facts["moved"] = _one(
            con,
            "SELECT count(*) FROM _diff WHERE old_status = new_status AND old_tier = new_tier",
        )
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _changes AS SELECT * FROM _diff "
            "WHERE old_status <> new_status OR old_tier IS DISTINCT FROM new_tier"
        )

    def write(con: duckdb.DuckDBPyConnection) -> None:
        # One transaction: a killed plan leaves the previous plan intact, a finished one the new.
        con.execute("BEGIN TRANSACTION")
        try:
            if facts["n_processed"]:
                # Files `process` made for tracks that leave their batch: removed after the
                # commit, listed here first so that a plan killed in between still removes them.
                con.execute(
                    """
                    INSERT INTO plan_stale_files
                    SELECT o.batch, o.track_id, o.ext FROM _old o
                    WHERE o.status = 'done' AND o.batch IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM _rows n WHERE n.track_id = o.track_id AND n.batch = o.batch)
                    """
                )
            con.execute(
                "DELETE FROM track_files WHERE batch IS NULL "
                "OR batch NOT IN (SELECT name FROM _released)"
            )
            cols = facts["columns"]
            # RLE only ever lost to the other methods on these columns (the file is the same
            # size without it), but its analysis was 7 % of the insert's CPU.
            con.execute("SET disabled_compression_methods = 'rle'")
            con.execute(f"INSERT INTO track_files ({cols}) SELECT {cols} FROM _rows")
            con.execute("DELETE FROM batches WHERE status <> 'released'")
            con.execute(
                """
                INSERT INTO batches (name, tier, seq, status, num_files, popularity_min,
                                     popularity_max, released_at)
                SELECT name, tier, seq, 'planned', num_files, popularity_min, popularity_max, NULL
                FROM _batch_rows ORDER BY tier::VARCHAR, seq
                """
            )
            con.execute("DELETE FROM plan_changes")
            con.execute("INSERT INTO plan_changes SELECT * FROM _changes")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute("RESET disabled_compression_methods")
        facts["stale_files_removed"] = remove_stale_files(con, archive)

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
    covered = facts["base_listens"] + facts["selected_listens"]
    n_tracks = facts["n_tracks"]
    # One pass over the written plan gives the tier table and, on a first plan, the transitions.
    per_status = _rows(
        con,
        """
        SELECT tier, status, count(*) AS n, count(batch) AS files,
               coalesce(sum(coalesce(size, est_bytes)) FILTER (WHERE batch IS NOT NULL), 0)::BIGINT
                   AS bytes
        FROM track_files GROUP BY tier, status
        """,
    )
    batches_per_tier = dict(
        con.execute("SELECT tier, count(*) FROM batches GROUP BY tier").fetchall()
    )
    tiers: dict[str, dict[str, Any]] = {}
    for r in per_status:
        t = tiers.setdefault(
            r["tier"],
            {
                "tier": r["tier"],
                "files": 0,
                "bytes": 0,
                "dedup": 0,
                "excluded": 0,
                "batches": batches_per_tier.get(r["tier"], 0),
            },
        )
        t["files"] += r["files"]
        t["bytes"] += r["bytes"]
        if r["status"] in ("dedup", "excluded"):
            t[r["status"]] += r["n"]
    tier_rows = [tiers[k] for k in sorted(tiers)]
    files = sum(t["files"] for t in tier_rows)
    bytes_ = sum(t["bytes"] for t in tier_rows)
    if facts["n_old"]:
        transitions = _rows(
            con,
            "SELECT old_status || '->' || new_status || CASE WHEN old_status = new_status "
            "THEN ' (tier ' || old_tier || '->' || new_tier || ')' ELSE '' END AS transition, "
            "count(*) AS tracks FROM _changes GROUP BY ALL ORDER BY transition",
        )
    else:
        # On a first plan every row is new: counted, not listed (plan_changes stays empty).
        counts: dict[str, int] = {}
        for r in per_status:
            key = f"unplanned->{r['status']}"
            counts[key] = counts.get(key, 0) + r["n"]
        transitions = [{"transition": k, "tracks": counts[k]} for k in sorted(counts)]
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
    missing = (
        _one(con, "SELECT count(DISTINCT track_id) FROM _frozen") - facts["frozen_found"]
        if facts["n_frozen"]
        else 0
    )
    return {
        "model": {
            **facts["model"],
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
        "tiers": tier_rows,
        "batches": {r["status"]: r["n"] for r in batches},
        "new_exclusions": facts["new_exclusions"],
        "excluded": facts["n_excluded"],
        "excluded_released": excluded_released,
        "untiered": facts["untiered"],
        "below_secondary_cutoff": facts["below_cut"],
        "released_missing_from_catalogue": missing,
        "started_batches": facts["n_started"],
        "stale_files_removed": facts["stale_files_removed"],
        "changes": {
            "tracks": sum(t["tracks"] for t in transitions),
            "by_transition": {t["transition"]: t["tracks"] for t in transitions},
            "moved_batch": facts["moved"],
            "sample": sample,
            "table": "plan_changes",
            "first_plan": not facts["n_old"],
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
        steps = _steps(archive, ps, req, facts)
        with progress(disable=None if show_progress is None else not show_progress) as prog:
            task = prog.add_task("plan", total=len(steps))
            for name, step in steps:
                prog.update(task, description=f"plan: {name}")
                step(con)
                prog.advance(task)
        return _summary(con, ps, req, facts)
    finally:
        con.close()
