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
# Files per batch (= per torrent).
batch_size = 60000
# Tracks with unknown popularity (e.g. a folder scan) go to this tier.
unknown_popularity_tier = "keep"

# Quality tiers, tried in order: a track goes to the first tier whose popularity range holds it.
# action "keep" keeps the original bitstream; "opus" re-encodes to Ogg Opus at kbps.
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
