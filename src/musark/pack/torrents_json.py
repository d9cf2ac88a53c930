"""``release/torrents.json``: one entry per torrent, the list mirror operators and scripts read."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from musark.fsio import atomic_write_text
from musark.pack.build import Built
from musark.pack.torrent import Options, magnet_link

GROUPS = ("batches", "patches", "album_art", "metadata")


def iso(ts: datetime) -> str:
    """UTC timestamp as written in torrents.json."""
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_entry(
    built: Built,
    *,
    name: str,
    group: str,
    display_name: str,
    torrent_path: str,
    added_at: datetime,
    options: Options,
    tier: str | None = None,
    popularity_min: int | None = None,
    popularity_max: int | None = None,
) -> dict[str, Any]:
    """The torrents.json entry of one built torrent."""
    fmt = built.layout.fmt
    return {
        "name": name,
        "group": group,
        "display_name": display_name,
        "is_metadata": group == "metadata",
        "btih": built.btih,
        "btmh": built.btmh,
        "magnet_link": magnet_link(
            built.btih,
            built.btmh,
            built.name,
            options.trackers,
            options.web_seeds,
            v1=fmt != "v2",
        ),
        "torrent_path": torrent_path,
        "torrent_size": len(built.data),
        "num_files": len(built.layout.files),
        "data_size": built.data_size,
        "added_at": iso(added_at),
        "popularity_min": popularity_min,
        "popularity_max": popularity_max,
        "tier": tier,
        "obsolete": False,
        "embargo": False,
        "format": fmt,
        "piece_size": built.layout.piece_size,
        "root": built.name,
    }


def load(path: Path) -> list[dict[str, Any]]:
    """The entries of an existing torrents.json (empty when there is none)."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of torrent entries")
    return data


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``new`` entries; an older entry of the same name with another btih becomes obsolete."""
    by_key = {(e["name"], e["btih"]): dict(e) for e in old}
    fresh = {e["name"]: e["btih"] for e in new}
    for (name, btih), e in by_key.items():
        if name in fresh and fresh[name] != btih:
            e["obsolete"] = True
    for e in new:
        key = (e["name"], e["btih"])
        if key in by_key:
            # An operator's embargo (a takedown in progress) outlives a rebuild of the same torrent.
            e = {**e, "embargo": by_key[key].get("embargo", False)}
        by_key[key] = e
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(
        by_key.values(),
        key=lambda e: (order.get(e["group"], 9), e["name"], e["obsolete"] is False, e["added_at"]),
    )


def save(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write torrents.json atomically, deterministically formatted."""
    atomic_write_text(
        path, json.dumps(entries, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
