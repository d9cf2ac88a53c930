"""System methods: ping, getLicense, getScanStatus, getOpenSubsonicExtensions, getMusicFolders."""

from __future__ import annotations

from typing import Any

from musark.serve.context import Ctx
from musark.serve.registry import method

EXTENSIONS = [
    {"name": "formPost", "versions": [1]},
    {"name": "apiKeyAuthentication", "versions": [1]},
    {"name": "transcodeOffset", "versions": [1]},
]


@method("ping")
def ping(ctx: Ctx) -> dict[str, Any]:
    """Answer an empty ok envelope to an authenticated caller."""
    return {}


@method("getLicense")
def get_license(ctx: Ctx) -> dict[str, Any]:
    """There is no licence to check: always valid."""
    return {"license": {"valid": True}}


@method("getScanStatus")
def get_scan_status(ctx: Ctx) -> dict[str, Any]:
    """The library comes from the published index: never scanning; count is the songs indexed."""
    return {"scanStatus": {"scanning": False, "count": ctx.lib.count("song")}}


@method("startScan")
def start_scan(ctx: Ctx) -> dict[str, Any]:
    """Nothing to scan: the library is the published index (rebuilt by `musark index`)."""
    return get_scan_status(ctx)


@method("getOpenSubsonicExtensions", auth=False)
def get_open_subsonic_extensions(ctx: Ctx) -> dict[str, Any]:
    """The OpenSubsonic extensions this server implements (answered without authentication)."""
    return {"openSubsonicExtensions": EXTENSIONS}


@method("getMusicFolders")
def get_music_folders(ctx: Ctx) -> dict[str, Any]:
    """One folder: the whole archive."""
    return {"musicFolders": {"musicFolder": [{"id": 1, "name": "musark"}]}}
