"""Report rendering: matplotlib (Agg) PNGs and one self-contained HTML page with them inlined."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from musark.plan.sizes import format_size

_PNG_META = {"Software": None}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata=_PNG_META)
    plt.close(fig)
    return buf.getvalue()


def _coverage(n: dict[str, Any]) -> bytes:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    curve = n["coverage_curve"]
    axes[0].plot([p["files"] for p in curve], [p["coverage_pct"] for p in curve], color="C0")
    axes[0].set(
        xlabel="files kept, plan order (log)", ylabel="listens covered (%)", title="vs files"
    )
    axes[0].set_xscale("log")
    axes[1].plot([p["bytes"] / 1e9 for p in curve], [p["coverage_pct"] for p in curve], color="C1")
    axes[1].set(xlabel="GB kept, plan order (log)", ylabel="listens covered (%)", title="vs bytes")
    axes[1].set_xscale("log")
    cat = n["catalogue_curve"]
    axes[2].plot(
        [0.0] + [p["tracks_pct"] for p in cat], [0.0] + [p["coverage_pct"] for p in cat], color="C2"
    )
    axes[2].axvline(37, color="grey", linestyle=":", label="37 % of tracks")
    axes[2].set(
        xlabel="catalogue tracks, most listened first (%)",
        ylabel="listens covered (%)",
        title="whole catalogue",
    )
    axes[2].legend(loc="lower right")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_ylim(0, 101)
    return _png(fig)


def _tiers(n: dict[str, Any]) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    tiers = n["tiers"] or [{"tier": "(none)", "bytes": 0, "files": 0}]
    bars = ax.bar([t["tier"] for t in tiers], [t["bytes"] / 1e9 for t in tiers], color="C0")
    ax.bar_label(bars, labels=[f"{t['files']:,} files" for t in tiers])
    ax.set(ylabel="GB", title="bytes per tier")
    return _png(fig)


def _popularity(n: dict[str, Any]) -> bytes:
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    rows = [r for r in n["popularity_histogram"] if r["popularity"] is not None]
    x = [r["popularity"] for r in rows]
    ax.bar(x, [r["tracks"] for r in rows], color="C7", label="catalogue")
    ax.bar(x, [r["files"] for r in rows], color="C0", label="kept as a file")
    ax.set_yscale("log")
    unknown = sum(r["tracks"] for r in n["popularity_histogram"] if r["popularity"] is None)
    ax.set(xlabel="popularity", ylabel="tracks", title=f"popularity ({unknown:,} unknown)")
    ax.legend()
    return _png(fig)


def _isrc(n: dict[str, Any]) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    rows = n["tracks_per_isrc"]
    labels = [f"{r['tracks_per_isrc']}{'+' if r['tracks_per_isrc'] >= 10 else ''}" for r in rows]
    ax.bar(labels, [r["isrcs"] for r in rows], color="C3")
    ax.set_yscale("log")
    ax.set(xlabel="tracks sharing one ISRC", ylabel="ISRCs", title="tracks per ISRC")
    return _png(fig)


def render_plots(numbers: dict[str, Any]) -> dict[str, bytes]:
    """Return {file name: PNG bytes} for every figure of the report."""
    return {
        "coverage.png": _coverage(numbers),
        "tiers.png": _tiers(numbers),
        "popularity.png": _popularity(numbers),
        "isrc.png": _isrc(numbers),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(numbers: dict[str, Any], pngs: dict[str, bytes]) -> str:
    """One self-contained HTML page: key figures, tables and the plots as data: URIs."""
    cat, plan = numbers["catalogue"], numbers["plan"]
    facts = [
        ("listens model", numbers["model"]["kind"]),
        ("catalogue tracks", f"{cat['tracks']:,}"),
        ("files planned", f"{plan['files']:,} ({plan['files_pct']:.2f} % of tracks)"),
        ("bytes planned", format_size(plan["bytes"])),
        ("listens covered by the plan", f"{plan['coverage_pct']:.3f} %"),
        (
            "listens covered by the top 37 % of tracks",
            f"{cat['coverage_pct_top_37pct_tracks']:.3f} %",
        ),
        ("tracks under 1,000 listens", f"{cat['tracks_under_1000_listens_pct']:.2f} %"),
        ("tracks without ISRC", f"{cat['tracks_without_isrc']:,}"),
    ]
    kv = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    imgs = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}"><figcaption>{html.escape(name)}</figcaption></figure>'
        for name, data in pngs.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>musark plan report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; }}
img {{ max-width: 100%; }}
figure {{ margin: 1em 0; }}
</style></head><body>
<h1>musark plan report</h1>
<table>{kv}</table>
{imgs}
<h2>Tiers</h2>{_table(numbers["tiers"])}
<h2>Batches</h2>{_table(numbers["batches"])}
<h2>Tracks per ISRC</h2>{_table(numbers["tracks_per_isrc"])}
</body></html>
"""
