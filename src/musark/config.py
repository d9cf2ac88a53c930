"""Archive settings: ``musark.toml`` merged over the commented defaults below (one source of truth)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

# The defaults ARE this document: `musark init` writes it verbatim, `load_settings` parses it and
# merges the archive's own musark.toml over it, so a documented setting can never drift from code.
DEFAULT_TOML = """\
# musark archive settings. Every key is optional; the values shown are the defaults.

[archive]
# Name of the archive; becomes the BagIt Bag-Group-Identifier and the torrents' group.
name = "musark"

[catalog]
# Rows per chunk when ingesting dumps; bounds memory on any input size.
chunk_rows = 1000000
# DuckDB memory limit and threads for catalogue work ("" = DuckDB's defaults).
memory_limit = "2GB"
threads = 0

[plan]
# Files per batch (= per torrent). `musark plan --batch-size` overrides it.
batch_size = 60000
# Tracks with unknown popularity (e.g. a folder scan) go to this tier.
unknown_popularity_tier = "keep"
# Listens model (docs/plan.md). A track's estimated listens are tracks.streams when the source has
# them, else a curve of popularity p:  p = 0 -> listens_at_zero;  p >= 1 -> 10 ** (log10_listens_at_one
# + listens_slope * (p - 1)). The defaults make a catalogue with ~70 % of tracks at popularity 0 and
# ~0.1 % at >= 50 cover ~99.6 % of listens with ~37 % of its tracks (the reference archive's shape).
listens_at_zero = 245.0
log10_listens_at_one = 2.85
listens_slope = 0.0672
# Popularity assumed by the curve for tracks whose popularity is unknown.
unknown_popularity_as = 1
# Secondary priority inside the lowest tier (smallest min_popularity), where popularity no longer
# tells tracks apart: score s in [0, 1] = weighted mean of artist popularity / 100, album
# popularity / 100 and min(1, log10(1 + artist followers) / 8) over the parts that are known
# (primary artist; s = 0 when none is). Modelled listens there are multiplied by
# 1 - secondary_listens_weight / 2 + secondary_listens_weight * s, and tracks with s below
# secondary_min_score are never selected (0 = no cut-off).
secondary_artist_popularity = 0.5
secondary_album_popularity = 0.3
secondary_followers = 0.2
secondary_listens_weight = 0.5
secondary_min_score = 0.0
# Size estimate of a planned file (real sizes win when known: the processed file, or for a "keep"
# tier the operator's source file): duration * kbps * 125 bytes * (1 + container_overhead)
# + file_overhead_bytes (headers, tags, embedded cover). Tracks without duration count as
# default_duration_ms long.
container_overhead = 0.01
file_overhead_bytes = 65536
default_duration_ms = 210000

# Quality tiers, tried in order: a track goes to the first tier whose popularity range holds it.
# name: [A-Za-z0-9-]{1,58} plus "_" but never "__" (batch names are "<tier>__<seq:04d>").
# action "keep" keeps the original bitstream (kbps = its typical bitrate, for size estimates);
# "opus" re-encodes to Ogg Opus at kbps. dedup_isrc = true keeps one file per ISRC in the tier.
[[plan.tiers]]
name = "keep"
action = "keep"
min_popularity = 1
max_popularity = 100
kbps = 160
dedup_isrc = false

[[plan.tiers]]
name = "opus75"
action = "opus"
min_popularity = 0
max_popularity = 0
kbps = 75
dedup_isrc = true

[media]
# Largest cover image embedded in a file, in pixels on the long side; bigger ones are resized.
cover_max_px = 1000
# Largest cover image accepted as input, in bytes; bigger ones are skipped with a reason.
cover_max_bytes = 20000000
# Reject input whose probed duration differs from the catalogue's by more than this fraction.
duration_tolerance = 0.25

[release]
# Torrent format: "v1" (default; every client), "v2" or "hybrid".
format = "v1"
# "auto" or a power of two in bytes.
piece_size = "auto"
trackers = []
web_seeds = []
# `musark release` without --batch releases the next `next` unreleased, fully processed batches,
# in this order: "popularity" (most popular first) or "name" (tier, then sequence number).
next = 1
order = "popularity"
# Write a "creation date" into torrents (the batch's release time, so still deterministic).
creation_date = false

[serve]
host = "127.0.0.1"
port = 4533
# Accept plain p= and enc: passwords (legacy clients) in addition to token and API-key auth.
allow_plain_passwords = false
"""


class Settings(dict):
    """Nested settings mapping with section access."""

    def section(self, name: str) -> dict[str, Any]:
        """Return one top-level section (empty dict when absent)."""
        return self.get(name, {})


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_settings() -> Settings:
    """Return the built-in defaults."""
    return Settings(tomllib.loads(DEFAULT_TOML))


def load_settings(path: Path | None) -> Settings:
    """Return defaults merged with the TOML file at ``path`` (when it exists)."""
    settings = default_settings()
    if path is not None and path.exists():
        try:
            user = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from exc
        settings = Settings(_merge(settings, user))
    return settings
