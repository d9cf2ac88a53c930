"""The [plan] section of musark.toml, validated into typed settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from musark.config import Settings

ACTIONS = ("keep", "opus")
# Batch names are "<tier>__<seq>", so a tier name must leave room for the sequence and never
# contain the separator itself.
_TIER_RE = re.compile(r"^[A-Za-z0-9_-]{1,58}$")


@dataclass(frozen=True)
class Tier:
    """One quality tier: which popularities it holds and how its files are made."""

    name: str
    action: str
    min_popularity: int
    max_popularity: int
    kbps: int
    dedup_isrc: bool


@dataclass(frozen=True)
class PlanSettings:
    """Every knob of the plan stage (documented in config.DEFAULT_TOML)."""

    batch_size: int
    tiers: tuple[Tier, ...]
    unknown_popularity_tier: str
    listens_at_zero: float
    log10_listens_at_one: float
    listens_slope: float
    unknown_popularity_as: int
    secondary_artist_popularity: float
    secondary_album_popularity: float
    secondary_followers: float
    secondary_listens_weight: float
    secondary_min_score: float
    container_overhead: float
    file_overhead_bytes: int
    default_duration_ms: int
    memory_limit: str
    threads: int

    def tier(self, name: str) -> Tier:
        """Return the tier called ``name``."""
        for t in self.tiers:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def lowest_tier(self) -> Tier:
        """The tier holding the least popular tracks (smallest min_popularity; last one on ties)."""
        return min(reversed(self.tiers), key=lambda t: t.min_popularity)


def _tier(raw: dict[str, Any], i: int) -> Tier:
    where = f"[[plan.tiers]] #{i + 1}"
    try:
        tier = Tier(
            name=str(raw["name"]),
            action=str(raw.get("action", "keep")),
            min_popularity=int(raw.get("min_popularity", 0)),
            max_popularity=int(raw.get("max_popularity", 100)),
            kbps=int(raw["kbps"]),
            dedup_isrc=bool(raw.get("dedup_isrc", False)),
        )
    except KeyError as exc:
        raise ValueError(f"{where}: missing key {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if not _TIER_RE.match(tier.name) or "__" in tier.name:
        raise ValueError(
            f"{where}: tier name {tier.name!r} must match [A-Za-z0-9_-]{{1,58}} without '__'"
        )
    if tier.action not in ACTIONS:
        raise ValueError(f"{where}: action {tier.action!r} must be one of {', '.join(ACTIONS)}")
    if not 0 <= tier.min_popularity <= tier.max_popularity <= 100:
        raise ValueError(f"{where}: need 0 <= min_popularity <= max_popularity <= 100")
    if tier.kbps <= 0:
        raise ValueError(f"{where}: kbps must be positive")
    return tier


def plan_settings(settings: Settings, *, batch_size: int | None = None) -> PlanSettings:
    """Validate the [plan] (and [catalog] memory) settings; ``batch_size`` overrides the file's."""
    plan = settings.section("plan")
    catalog = settings.section("catalog")
    tiers = tuple(_tier(t, i) for i, t in enumerate(plan.get("tiers", [])))
    if not tiers:
        raise ValueError("[plan]: at least one [[plan.tiers]] is needed")
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise ValueError(f"[plan]: duplicate tier names in {names}")
    ps = PlanSettings(
        batch_size=int(batch_size if batch_size is not None else plan.get("batch_size", 60000)),
        tiers=tiers,
        unknown_popularity_tier=str(plan.get("unknown_popularity_tier", tiers[0].name)),
        listens_at_zero=float(plan["listens_at_zero"]),
        log10_listens_at_one=float(plan["log10_listens_at_one"]),
        listens_slope=float(plan["listens_slope"]),
        unknown_popularity_as=int(plan["unknown_popularity_as"]),
        secondary_artist_popularity=float(plan["secondary_artist_popularity"]),
        secondary_album_popularity=float(plan["secondary_album_popularity"]),
        secondary_followers=float(plan["secondary_followers"]),
        secondary_listens_weight=float(plan["secondary_listens_weight"]),
        secondary_min_score=float(plan["secondary_min_score"]),
        container_overhead=float(plan["container_overhead"]),
        file_overhead_bytes=int(plan["file_overhead_bytes"]),
        default_duration_ms=int(plan["default_duration_ms"]),
        memory_limit=str(catalog.get("memory_limit", "")),
        threads=int(catalog.get("threads", 0)),
    )
    if ps.batch_size < 1:
        raise ValueError("[plan] batch_size must be at least 1")
    if ps.unknown_popularity_tier not in names:
        raise ValueError(
            f"[plan] unknown_popularity_tier {ps.unknown_popularity_tier!r} is not a tier ({names})"
        )
    if not 0 <= ps.secondary_listens_weight <= 2:
        raise ValueError("[plan] secondary_listens_weight must be within 0..2")
    return ps
