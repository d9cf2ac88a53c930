"""The listens model and size estimate as DuckDB SQL: one feature row per catalogued track.

listens = tracks.streams when known, else a curve of popularity p (musark.toml [plan]):
    p = 0  -> listens_at_zero
    p >= 1 -> 10 ** (log10_listens_at_one + listens_slope * (p - 1))
Inside the lowest tier the modelled value is scaled by 1 - w/2 + w*s (w = secondary_listens_weight,
s = secondary score in [0, 1]), because popularity 0 no longer tells tracks apart there.
"""

from __future__ import annotations

import duckdb

from musark.plan.settings import PlanSettings


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def tier_type(ps: PlanSettings) -> str:
    """SQL type of a tier column: an ENUM of the tier names."""
    return f"ENUM({', '.join(_lit(t.name) for t in ps.tiers)})"


def tier_case(ps: PlanSettings, popularity: str = "t.popularity") -> str:
    """SQL: the tier of a track (NULL when no tier holds its popularity), typed tier_type().

    An ENUM is one byte that compares as its name: the joins, groups and sorts on tier that
    the plan runs over millions of rows cost less than on strings (same rows, same results).
    """
    # Typed literals, not a cast of the CASE: casting a string to an ENUM is a dictionary lookup
    # per row (0.3 CPU-s per 10 M rows), a typed constant costs nothing per row.
    whens = " ".join(
        f"WHEN {popularity} BETWEEN {t.min_popularity} AND {t.max_popularity} "
        f"THEN {_tier_lit(ps, t.name)}"
        for t in ps.tiers
    )
    return f"(CASE WHEN {popularity} IS NULL THEN {_tier_lit(ps, ps.unknown_popularity_tier)} {whens} END)"


def _tier_lit(ps: PlanSettings, name: str) -> str:
    """SQL: the tier ``name`` as a constant of tier_type()."""
    return f"{_lit(name)}::{tier_type(ps)}"


def tier_in(ps: PlanSettings, names: list[str], tier: str = "tier") -> str:
    """SQL: whether column ``tier`` is one of ``names`` (typed literals: no cast per row)."""
    if not names:
        return "false"
    return f"({tier} IN ({', '.join(_tier_lit(ps, n) for n in names)}))"


def tier_attr_case(ps: PlanSettings, attr: str, tier: str = "tier") -> str:
    """SQL: one attribute (action, kbps, dedup_isrc) of the tier named by column ``tier``."""
    whens = " ".join(
        f"WHEN {_lit(t.name)} THEN {_lit(v) if isinstance(v := getattr(t, attr), str) else repr(v).upper()}"
        for t in ps.tiers
    )
    return f"CASE {tier} {whens} END"


def secondary_sql(ps: PlanSettings) -> str:
    """SQL: secondary score s in [0, 1] from primary artist popularity/followers and album popularity."""
    # The parts per artist and album are computed once per artist/album by features_sql.
    parts = [
        (ps.secondary_artist_popularity, "ar.popularity_part"),
        (ps.secondary_album_popularity, "al.popularity_part"),
        (ps.secondary_followers, "ar.followers_part"),
    ]
    num = " + ".join(f"{w!r} * coalesce({e}, 0)" for w, e in parts)
    den = " + ".join(f"CASE WHEN {e} IS NULL THEN 0 ELSE {w!r} END" for w, e in parts)
    return f"coalesce(({num}) / nullif({den}, 0), 0.0)"


def curve_sql(ps: PlanSettings, popularity: str) -> str:
    """SQL: modelled listens of a track of the given popularity."""
    return (
        f"CASE WHEN {popularity} <= 0 THEN {ps.listens_at_zero!r} "
        f"ELSE pow(10, {ps.log10_listens_at_one!r} + {ps.listens_slope!r} * ({popularity} - 1)) END"
    )


def listens_sql(ps: PlanSettings) -> str:
    """SQL over the feature columns: estimated listens of a track."""
    w = ps.secondary_listens_weight
    p = f"coalesce(popularity, {ps.unknown_popularity_as})"
    lowest = _lit(ps.lowest_tier.name)
    # Whole listens: integer sums are exact, so the same input always selects the same prefix.
    return (
        f"CASE WHEN streams IS NOT NULL THEN greatest(streams, 0) "
        f"ELSE round(({curve_sql(ps, p)}) * "
        f"(CASE WHEN tier = {lowest} THEN {1 - w / 2!r} + {w!r} * secondary ELSE 1.0 END))::BIGINT END"
    )


def estimate_bytes_sql(ps: PlanSettings) -> str:
    """SQL over the feature columns: estimated bytes of the tier's file."""
    kbps = tier_attr_case(ps, "kbps")
    return (
        f"(ceil(coalesce(duration_ms, {ps.default_duration_ms}) / 1000.0 * ({kbps}) * 125.0"
        f" * {1 + ps.container_overhead!r}) + {ps.file_overhead_bytes})::BIGINT"
    )


def features_sql(ps: PlanSettings) -> str:
    """SQL query: per catalogued track its tier (and tier settings), secondary score, listens, sizes."""
    return f"""
        SELECT *, {listens_sql(ps)} AS listens,
               {tier_in(ps, [t.name for t in ps.tiers if t.action == "keep"])} AS keeps_source,
               {tier_attr_case(ps, "kbps")} AS kbps,
               coalesce({tier_attr_case(ps, "dedup_isrc")}, false) AS dedup,
               {estimate_bytes_sql(ps)} AS est_bytes
        FROM (
            SELECT t.id AS track_id, t.popularity, t.isrc, t.duration_ms, t.streams,
                   {tier_case(ps)} AS tier,
                   {secondary_sql(ps)} AS secondary,
                   au.size AS audio_size
            FROM tracks t
            LEFT JOIN (SELECT id, popularity / 100.0 AS popularity_part FROM albums) al
                   ON al.id = t.album_id
            LEFT JOIN (SELECT id, popularity / 100.0 AS popularity_part,
                              least(1.0, log10(1 + greatest(followers, 0)) / 8.0) AS followers_part
                       FROM artists) ar ON ar.id = t.artist_id
            LEFT JOIN (SELECT track_id, max(size) AS size FROM track_audio GROUP BY track_id) au
                   ON au.track_id = t.id
        )"""


def model_kind(con: duckdb.DuckDBPyConnection) -> dict[str, int | str]:
    """Which listens model applies: 'streams', 'popularity_curve' or 'mixed', with counts."""
    n, with_streams = con.execute("SELECT count(*), count(streams) FROM tracks").fetchall()[0]
    if n and with_streams == n:
        kind = "streams"
    elif with_streams:
        kind = "mixed"
    else:
        kind = "popularity_curve"
    return {"kind": kind, "tracks_with_streams": with_streams, "tracks_modelled": n - with_streams}
