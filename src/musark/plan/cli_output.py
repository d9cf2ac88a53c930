"""Terminal rendering of `musark plan` and `musark report` results (tables, not JSON)."""

from __future__ import annotations

from typing import Any

from musark.console import out, print_kv, print_table
from musark.plan.sizes import format_size

SHOWN = 20


def print_plan(s: dict[str, Any]) -> None:
    """Print a plan summary as tables."""
    model = s["model"]
    sel = s["selected"]
    print_kv(
        "plan",
        {
            "listens model": f"{model['kind']} ({model['tracks_with_streams']:,} tracks with streams, "
            f"{model['tracks_modelled']:,} from popularity)",
            "mode": s["mode"]
            + (f" {format_size(s['budget_bytes'])}" if s["budget_bytes"] is not None else "")
            + (f" {s['coverage_target']} %" if s["coverage_target"] is not None else ""),
            "catalogue tracks": f"{s['catalogue']['tracks']:,}",
            "files": f"{sel['files']:,} ({sel['files_pct']:.2f} % of tracks)",
            "bytes": format_size(sel["bytes"]),
            "listens covered": f"{sel['coverage_pct']:.3f} %",
            "batches": ", ".join(f"{k}: {v}" for k, v in s["batches"].items()) or "none",
            "excluded tracks": f"{s['excluded']:,} ({s['new_exclusions']} new requests)",
            "status changes": f"{s['changes']['tracks']:,} (moved batch: {s['changes']['moved_batch']:,})",
        }
        | (
            {
                "started batches": f"{s['started_batches']:,} (processed files kept in place; "
                f"{s['stale_files_removed']:,} files of tracks that left them removed)"
            }
            if s.get("started_batches") or s.get("stale_files_removed")
            else {}
        ),
    )
    print_table(
        "tiers",
        [{**t, "bytes": format_size(t["bytes"])} for t in s["tiers"]],
        ["tier", "files", "bytes", "dedup", "excluded", "batches"],
    )
    if s["changes"]["by_transition"]:
        print_table(
            "status changes"
            + ("" if s["changes"]["first_plan"] else " (each track in table plan_changes)"),
            [{"transition": k, "tracks": v} for k, v in s["changes"]["by_transition"].items()],
        )
    if s["excluded_released"]:
        shown = s["excluded_released"][:SHOWN]
        more = len(s["excluded_released"]) - len(shown)
        print_table(
            f"EXCLUDED BUT ALREADY RELEASED: {len(s['excluded_released']):,} tracks"
            + (f" (first {SHOWN}; all in --json)" if more else ""),
            shown,
        )
    if s["over_budget"]:
        out.print("[bold red]released batches alone exceed the budget[/]")


def print_report(n: dict[str, Any]) -> None:
    """Print the report's key figures and where its files are."""
    cat, plan = n["catalogue"], n["plan"]
    print_kv(
        "report",
        {
            "listens model": n["model"]["kind"],
            "catalogue tracks": f"{cat['tracks']:,}",
            "files planned": f"{plan['files']:,} ({plan['files_pct']:.2f} %)",
            "bytes planned": format_size(plan["bytes"]),
            "listens covered": f"{plan['coverage_pct']:.3f} %",
            "top 37 % of tracks cover": f"{cat['coverage_pct_top_37pct_tracks']:.3f} %",
            "tracks under 1,000 listens": f"{cat['tracks_under_1000_listens_pct']:.2f} %",
            "html": n["files"]["html"],
            "json": n["files"]["json"],
        },
    )
