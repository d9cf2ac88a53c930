"""`musark demo`: a sample archive built end to end from generated (CC0) inputs, then served."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import mutagen

from musark.archive import Archive, init_archive
from musark.config import DEFAULT_TOML
from musark.fsio import atomic_path, atomic_write_bytes, atomic_write_text
from musark.media.synth import remux_head, write_audio

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-listener"
# One long generated original is encoded per demo; every track's source is its first
# duration_ms cut out by remuxing packets, which costs nothing next to encoding minutes of audio.
# 22.05 kHz stereo (the native Vorbis encoder takes nothing but stereo) keeps that one encode
# quick on two cores; the pipeline treats these originals like any other Vorbis file.
BASE_RATE = 22050
BASE_CHANNELS = 2
# How many sources of the first batch are damaged on purpose, to show quarantine at work.
CORRUPT = 2


@dataclass(frozen=True)
class DemoOptions:
    """What `musark demo` builds."""

    tracks: int = 200_000
    batch_size: int = 16
    budget: str = "400GB"
    bad_rate: float = 0.002
    seed: int = 7
    show_progress: bool | None = None


def demo_settings(batch_size: int) -> str:
    """The demo archive's musark.toml: the defaults with small batches and its own name."""
    text = DEFAULT_TOML
    for old, new in (
        ('name = "musark"', 'name = "musark-demo"'),
        ("batch_size = 60000", f"batch_size = {batch_size}"),
    ):
        if old not in text:
            raise RuntimeError(f"demo settings: default {old!r} not found in DEFAULT_TOML")
        text = text.replace(old, new, 1)
    return text


def _step(log: list[dict[str, Any]], name: str, start: float, **facts: Any) -> None:
    log.append({"step": name, "seconds": round(time.monotonic() - start, 2), **facts})


def _planned_sources(archive: Archive, batches: list[str]) -> list[dict[str, Any]]:
    """The tracks planned into ``batches`` with what a generated original needs."""
    con = duckdb.connect(str(archive.catalog_db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT f.track_id, f.batch, f.seq_in_batch, t.name, t.duration_ms,
                   coalesce(a.name, 'Unknown Album') AS album,
                   coalesce((SELECT ar.name FROM track_artists ta JOIN artists ar ON ar.id = ta.artist_id
                             WHERE ta.track_id = f.track_id ORDER BY ta.position LIMIT 1),
                            'Unknown Artist') AS artist
            FROM track_files f
            JOIN tracks t ON t.id = f.track_id
            LEFT JOIN albums a ON a.id = t.album_id
            WHERE f.batch IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY f.batch, f.seq_in_batch
            """,
            [batches],
        ).fetchall()
    finally:
        con.close()
    cols = ("track_id", "batch", "seq", "title", "duration_ms", "album", "artist")
    return [dict(zip(cols, r, strict=True)) for r in rows]


def generate_sources(root: Path, tracks: list[dict[str, Any]], corrupt: int = CORRUPT) -> dict:
    """Write one tagged Vorbis original per track under ``root`` (a few damaged on purpose)."""
    longest = max(((t["duration_ms"] or 0) / 1000 for t in tracks), default=0.0)
    minutes = max(1, math.ceil(longest / 60))
    base = root / ".base" / f"base-{minutes}min.ogg"
    if not base.exists():
        write_audio(base, minutes * 60, sample_rate=BASE_RATE, channels=BASE_CHANNELS, seed=minutes)
    damaged = {t["track_id"] for t in tracks[:corrupt]}
    made = reused = 0
    for t in tracks:
        dest = root / f"{t['track_id']}.ogg"
        if dest.exists():
            reused += 1
            continue
        if t["track_id"] in damaged:
            # A truncated download and a file of junk: both must land in quarantine.
            data = base.read_bytes()
            atomic_write_bytes(
                dest, data[: len(data) // 500] if t["seq"] % 2 else b"\x00junk" * 900
            )
        else:
            with atomic_path(dest) as tmp:
                # one atomic write covers the cut and the tags: a killed run leaves no untagged source
                remux_head(base, tmp, max(1.0, (t["duration_ms"] or 1000) / 1000))
                tags = mutagen.File(tmp)
                tags["TITLE"] = t["title"]
                tags["ARTIST"] = t["artist"]
                tags["ALBUM"] = t["album"]
                tags["ENCODER"] = "musark demo (generated, CC0)"
                tags.save()
        made += 1
    return {
        "generated": made,
        "reused": reused,
        "base_seconds": minutes * 60,
        "damaged": sorted(damaged),
    }


def synth_sources(
    archive: Archive, out_dir: Path, batches: list[str], corrupt: int = 0
) -> dict[str, Any]:
    """Generate a CC0 Vorbis original for every track planned into ``batches``."""
    tracks = _planned_sources(archive, batches)
    if not tracks:
        raise ValueError(f"no planned tracks in batches {', '.join(batches) or '(none given)'}")
    return {"batches": batches, "tracks": len(tracks), **generate_sources(out_dir, tracks, corrupt)}


def run_demo(root: Path, opts: DemoOptions | None = None) -> dict[str, Any]:
    """Build the demo archive under ``root`` (re-using whatever a previous run left) and summarise."""
    from musark.catalog.ingest import ingest
    from musark.catalog.synth import synth_catalog
    from musark.media.process import process_archive
    from musark.mirror.verify import verify
    from musark.pack.release import release
    from musark.plan.planner import PlanRequest, run_plan
    from musark.plan.sizes import parse_size

    opts = opts or DemoOptions()
    show = opts.show_progress
    arc = Archive(root.resolve())
    arc.root.mkdir(parents=True, exist_ok=True)
    if not arc.config_path.exists():
        atomic_write_text(arc.config_path, demo_settings(opts.batch_size))
    init_archive(arc)
    steps: list[dict[str, Any]] = []
    inputs = arc.root / "inputs"

    t = time.monotonic()
    dump = inputs / "catalog.jsonl.zst"
    if not dump.exists():
        synth_catalog(
            dump,
            opts.tracks,
            seed=opts.seed,
            bad_rate=opts.bad_rate,
            show_progress=show is not False,
        )
    _step(steps, "synth catalog", t, dump=str(dump))

    t = time.monotonic()
    ingested = ingest(arc, [dump], show_progress=show is not False)
    _step(steps, "ingest", t, ingested=ingested.get("ingested"), rejected=ingested.get("rejected"))

    t = time.monotonic()
    plan = run_plan(arc, PlanRequest(budget_bytes=parse_size(opts.budget)), show_progress=show)
    _step(steps, "plan", t, files=plan["selected"]["files"])

    con = duckdb.connect(str(arc.catalog_db), read_only=True)
    try:
        first = dict(
            con.execute(
                "SELECT tier, min(name) FROM batches WHERE seq = 1 GROUP BY tier ORDER BY tier"
            ).fetchall()
        )
    finally:
        con.close()
    chosen = sorted(first.values())  # first batch of every tier: one kept, one re-encoded

    t = time.monotonic()
    sources = synth_sources(arc, inputs / "audio", chosen, corrupt=CORRUPT)
    _step(steps, "generate audio", t, generated=sources["generated"], reused=sources["reused"])

    t = time.monotonic()
    processed = {}
    for batch in chosen:
        rep = process_archive(arc, source_dir=inputs / "audio", batch=batch, show_progress=show)
        processed[batch] = rep.as_dict()
    _step(steps, "process", t, batches=chosen)

    t = time.monotonic()
    rel = release(arc, batches=chosen, show_progress=show)
    _step(steps, "release", t, released=rel.released, unchanged=rel.unchanged)

    t = time.monotonic()
    ver = verify(arc, show_progress=show)
    _step(steps, "verify", t, **ver.totals())

    summary = _summary(arc, plan, processed, ver)
    summary["steps"] = steps
    summary["archive"] = str(arc.root)
    return summary


def _summary(arc: Archive, plan: dict, processed: dict[str, dict], ver: Any) -> dict[str, Any]:
    from musark.pack import torrents_json

    con = duckdb.connect(str(arc.catalog_db), read_only=True)
    try:
        tiers = [
            {"tier": tier, "files": n, "bytes": int(b or 0)}
            for tier, n, b in con.execute(
                "SELECT tier, count(*), sum(size) FROM track_files WHERE status = 'done' "
                "GROUP BY tier ORDER BY tier"
            ).fetchall()
        ]
        quarantined = con.execute(
            "SELECT track_id, error FROM track_files WHERE status = 'quarantined' ORDER BY track_id"
        ).fetchall()
        tracks = con.execute("SELECT count(*) FROM tracks").fetchone()[0]
        rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
        batches = dict(
            con.execute("SELECT status, count(*) FROM batches GROUP BY status").fetchall()
        )
    finally:
        con.close()
    torrents = torrents_json.load(arc.torrents_json)
    return {
        "tracks": tracks,
        "rejects": rejects,
        "planned_files": plan["selected"]["files"],
        "planned_bytes": plan["selected"]["bytes"],
        "batches": batches,
        "coverage_pct": round(plan["selected"]["coverage_pct"], 3),
        "files": sum(t["files"] for t in tiers),
        "bytes": sum(t["bytes"] for t in tiers),
        "tiers": tiers,
        "processed": processed,
        "quarantined": [{"track_id": t, "reason": r} for t, r in quarantined],
        "verify": {**ver.totals(), "passed": ver.ok},
        "torrents": [
            {
                "name": e["name"],
                "btih": e.get("btih"),
                "num_files": e.get("num_files"),
                "data_size": e.get("data_size"),
            }
            for e in torrents
        ],
    }


def ensure_demo_user(archive: Archive) -> tuple[str, str]:
    """Create the demo listener once; return its credentials."""
    from musark.serve.users import UserError, UserStore

    store = UserStore(archive)
    try:
        store.add(DEMO_USER, DEMO_PASSWORD, admin=False)
    except UserError:
        store.set_password(DEMO_USER, DEMO_PASSWORD)
    return DEMO_USER, DEMO_PASSWORD


def print_summary(summary: dict[str, Any]) -> None:
    """Print the demo summary as tables."""
    from musark.console import print_kv, print_table

    print_kv(
        "musark demo",
        {
            "archive": summary["archive"],
            "catalogue tracks": summary["tracks"],
            "rejected rows": summary["rejects"],
            "planned files": summary["planned_files"],
            "batches": ", ".join(f"{v} {k}" for k, v in sorted(summary["batches"].items())),
            "planned bytes": summary["planned_bytes"],
            "coverage of listens": f"{summary['coverage_pct']} %",
            "archived files": summary["files"],
            "archived bytes": summary["bytes"],
            "quarantined": len(summary["quarantined"]),
            "verify": ", ".join(f"{k} {v}" for k, v in summary["verify"].items()),
        },
    )
    print_table("tiers", summary["tiers"], ["tier", "files", "bytes"])
    if summary["quarantined"]:
        print_table("quarantined", summary["quarantined"], ["track_id", "reason"])
    print_table("torrents", summary["torrents"], ["name", "btih", "num_files", "data_size"])
    print_table("steps", summary["steps"], ["step", "seconds"])
