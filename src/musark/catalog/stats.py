"""`musark stats`: the catalogue's shape in a handful of vectorised aggregate queries."""

from __future__ import annotations

from typing import Any

from musark.archive import Archive
from musark.catalog.schema import connect

# Popularity buckets: 0 alone (most of any real catalogue), then ranges of ten.
_POP_BUCKETS = [(0, 0), (1, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69),
                (70, 79), (80, 89), (90, 100)]  # fmt: skip


def catalog_stats(archive: Archive, top_labels: int = 10) -> dict[str, Any]:
    """Return counts and histograms describing the catalogue."""
    con = connect(archive.catalog_db, read_only=True)
    try:
        tracks, isrcs, with_streams, unknown_pop = con.execute(
            "SELECT count(*), count(DISTINCT isrc), count(streams), count(*) - count(popularity) "
            "FROM tracks"
        ).fetchall()[0]
        albums = con.execute("SELECT count(*) FROM albums").fetchall()[0][0]
        artists = con.execute("SELECT count(*) FROM artists").fetchall()[0][0]
        per_isrc = con.execute("""
            SELECT CASE WHEN n >= 5 THEN '5+' ELSE n::VARCHAR END AS bucket, count(*)
            FROM (SELECT count(*) AS n FROM tracks WHERE isrc IS NOT NULL GROUP BY isrc)
            GROUP BY bucket ORDER BY bucket""").fetchall()
        case = " ".join(
            f"WHEN popularity BETWEEN {lo} AND {hi} THEN '{lo}' || '-' || '{hi}'"
            if lo != hi
            else f"WHEN popularity = {lo} THEN '{lo}'"
            for lo, hi in _POP_BUCKETS
        )
        pops = dict(
            con.execute(
                f"SELECT CASE {case} END AS b, count(*) FROM tracks "
                "WHERE popularity IS NOT NULL GROUP BY b"
            ).fetchall()
        )
        pop_hist = {
            (f"{lo}" if lo == hi else f"{lo}-{hi}"): pops.get(
                f"{lo}" if lo == hi else f"{lo}-{hi}", 0
            )
            for lo, hi in _POP_BUCKETS
        }
        label_count = con.execute("SELECT count(DISTINCT label) FROM albums").fetchall()[0][0]
        labels = con.execute(
            "SELECT label, count(*) AS albums FROM albums WHERE label IS NOT NULL "
            "GROUP BY label ORDER BY albums DESC, label LIMIT ?",
            [top_labels],
        ).fetchall()
        rejects = con.execute(
            "SELECT reason, count(*) FROM rejects GROUP BY reason ORDER BY count(*) DESC, reason"
        ).fetchall()
        audio = con.execute("SELECT count(*) FROM track_audio").fetchall()[0][0]
    finally:
        con.close()
    return {
        "tracks": tracks,
        "albums": albums,
        "artists": artists,
        "distinct_isrcs": isrcs,
        "tracks_with_streams": with_streams,
        "tracks_unknown_popularity": unknown_pop,
        "tracks_with_audio": audio,
        "tracks_per_isrc": dict(per_isrc),
        "popularity_histogram": pop_hist,
        "labels": {"count": label_count, "top": [{"label": n, "albums": c} for n, c in labels]},
        "rejects": {"total": sum(c for _, c in rejects), "by_reason": dict(rejects)},
    }
