"""What a handler sees: the server's shared parts, the request's parameters and its user."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from musark.archive import Archive
from musark.serve.auth import RateLimiter
from musark.serve.coverart import CoverArt
from musark.serve.errors import NOT_AUTHORIZED, ApiError
from musark.serve.library import Library, album_entry, artist_entry, song_child
from musark.serve.params import Params
from musark.serve.search_index import Searcher
from musark.serve.state import State
from musark.serve.users import User, UserStore


@dataclass
class Server:
    """Everything shared by the requests of one app."""

    archive: Archive
    library: Library
    state: State
    users: UserStore
    searcher: Searcher
    allow_plain: bool
    fetch_on_demand: bool = False
    limiter: RateLimiter = field(default_factory=RateLimiter)
    covers: CoverArt = field(init=False)

    def __post_init__(self) -> None:
        self.covers = CoverArt(self.library)


@dataclass
class Ctx:
    """One API call."""

    server: Server
    request: Request
    params: Params
    user: User | None

    @property
    def lib(self) -> Library:
        return self.server.library

    @property
    def state(self) -> State:
        return self.server.state

    @property
    def username(self) -> str:
        return self.user.name if self.user else ""

    def require_admin(self) -> None:
        """Error 50 unless the caller is an admin."""
        if self.user is None or not self.user.admin:
            raise ApiError(NOT_AUTHORIZED, f"User {self.username!r} is not authorized (admin only)")

    def songs(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        """Children for song rows, with this user's stars and play counts."""
        ids = [r["id"] for r in rows]
        stars = self.state.stars_of(self.username, "song", ids)
        plays = self.state.plays_of(self.username, ids)
        return [
            song_child(self.lib, r, starred=stars.get(r["id"]), plays=plays.get(r["id"]))
            for r in rows
        ]

    def albums(self, rows: Sequence[sqlite3.Row], *, as_dir: bool = False) -> list[dict[str, Any]]:
        """Album entries with this user's stars."""
        stars = self.state.stars_of(self.username, "album", [r["id"] for r in rows])
        return [album_entry(r, starred=stars.get(r["id"]), as_dir=as_dir) for r in rows]

    def artists(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        """Artist entries with this user's stars."""
        stars = self.state.stars_of(self.username, "artist", [r["id"] for r in rows])
        return [artist_entry(r, starred=stars.get(r["id"])) for r in rows]


Handler = Callable[[Ctx], "dict[str, Any] | Response"]
