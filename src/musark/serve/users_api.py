"""Users: getUser, getUsers (roles: admin vs listener)."""

from __future__ import annotations

from typing import Any

from musark.serve.context import Ctx
from musark.serve.errors import NOT_AUTHORIZED, ApiError, not_found
from musark.serve.registry import method
from musark.serve.users import User


def user_entry(user: User) -> dict[str, Any]:
    """A user with the Subsonic roles a listener or an admin has."""
    return {
        "username": user.name,
        "scrobblingEnabled": True,
        "adminRole": user.admin,
        "settingsRole": user.admin,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": user.admin,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "videoConversionRole": False,
        "folder": [1],
    }


@method("getUser")
def get_user(ctx: Ctx) -> dict[str, Any]:
    """A user's roles: one's own, or anyone's for an admin (else error 50)."""
    name = ctx.params.require("username")
    if name != ctx.username and (ctx.user is None or not ctx.user.admin):
        raise ApiError(NOT_AUTHORIZED, f"User {ctx.username!r} may only read their own account")
    user = ctx.server.users.get(name)
    if user is None:
        raise not_found("User", name)
    return {"user": user_entry(user)}


@method("getUsers")
def get_users(ctx: Ctx) -> dict[str, Any]:
    """Every user (admin only)."""
    ctx.require_admin()
    users = [ctx.server.users.get(u["name"]) for u in ctx.server.users.list()]
    return {"users": {"user": [user_entry(u) for u in users if u is not None]}}
