"""Human-readable rendering of ingest and stats results (the --json forms are the dicts)."""

from __future__ import annotations

from typing import Any

from musark.console import console, out, print_kv, print_table


def print_ingest(result: dict[str, Any]) -> None:
    """Print an ingest result: per-source counts, merge counts and warnings."""
    print_table(
        "ingest",
        result["sources"],
        ["source", "format", "ingested", "rejected"],
    )
    rows = [{"entity": k, **v} for k, v in result["merge"].items() if isinstance(v, dict)]
    print_table(
        "catalogue changes", rows, ["entity", "added", "updated", "unchanged", "kept_newer"]
    )
    for w in result.get("warnings", []):
        console.print(f"[yellow]warning:[/] {w}")
    out.print(
        f"ingested {result['ingested']} rows, rejected {result['rejected']} "
        f"({result['merge']['new_rejects']} new rejects) in {result['seconds']} s"
    )


def print_stats(s: dict[str, Any]) -> None:
    """Print catalogue statistics as tables."""
    print_kv(
        "catalogue",
        {
            k: s[k]
            for k in (
                "tracks",
                "albums",
                "artists",
                "distinct_isrcs",
                "tracks_with_streams",
                "tracks_unknown_popularity",
                "tracks_with_audio",
            )
        },
    )
    print_table(
        "tracks per ISRC",
        ({"tracks": k, "isrcs": v} for k, v in s["tracks_per_isrc"].items()),
        ["tracks", "isrcs"],
    )
    print_table(
        "popularity",
        ({"popularity": k, "tracks": v} for k, v in s["popularity_histogram"].items()),
        ["popularity", "tracks"],
    )
    print_table(f"labels ({s['labels']['count']} in all)", s["labels"]["top"], ["label", "albums"])
    print_table(
        f"rejects ({s['rejects']['total']} in all)",
        ({"reason": k, "rows": v} for k, v in s["rejects"]["by_reason"].items()),
        ["reason", "rows"],
    )
