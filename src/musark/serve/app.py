"""The ASGI app: every Subsonic method at /rest/X and /rest/X.view (GET and form POST), the web player at /."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from musark.archive import Archive

# Importing the area modules registers their methods.
from musark.serve import (  # noqa: F401
    annotation,
    browsing,
    lists,
    media,
    playlists,
    searching,
    system,
    users_api,
)
from musark.serve.auth import authenticate
from musark.serve.context import Ctx, Server
from musark.serve.errors import GENERIC, ApiError
from musark.serve.indexing import build_index
from musark.serve.library import Library
from musark.serve.params import Params
from musark.serve.registry import METHODS
from musark.serve.responses import envelope, error_body, render
from musark.serve.search_index import Searcher
from musark.serve.state import State
from musark.serve.users import UserStore

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("musark.serve")


def _method_name(path_name: str) -> str:
    return path_name[: -len(".view")] if path_name.endswith(".view") else path_name


def create_server(
    archive: Archive,
    *,
    allow_plain: bool | None = None,
    fetch_on_demand: bool = False,
    fetch_peers: Sequence[str] = (),
) -> Server:
    """Open (building when missing or stale) everything one server needs."""
    build_index(archive)
    if allow_plain is None:
        allow_plain = bool(archive.settings.section("serve").get("allow_plain_passwords", False))
    return Server(
        archive=archive,
        library=Library(archive),
        state=State(archive),
        users=UserStore(archive),
        searcher=Searcher(archive),
        allow_plain=allow_plain,
        fetch_on_demand=fetch_on_demand,
        fetch_peers=tuple(fetch_peers),
    )


def create_app(
    archive: Archive,
    *,
    allow_plain: bool | None = None,
    fetch_on_demand: bool = False,
    fetch_peers: Sequence[str] = (),
) -> Starlette:
    """The musark server app for ``archive`` (an archive or a mirror with a published index)."""
    server = create_server(
        archive, allow_plain=allow_plain, fetch_on_demand=fetch_on_demand, fetch_peers=fetch_peers
    )

    async def rest(request: Request) -> Response:
        name = _method_name(request.path_params["method"])
        try:
            params = await Params.read(request)
        except Exception:  # a malformed form body is the client's error, not ours
            params = Params(list(request.query_params.multi_items()))
        fmt, callback = params.get("f"), params.get("callback")
        try:
            m = METHODS.get(name)
            if m is None:
                raise ApiError(GENERIC, f"Unknown method: {name}")
            user = None
            if m.auth:
                client = request.client.host if request.client else "unknown"
                user = await run_in_threadpool(
                    authenticate,
                    params,
                    server.users,
                    server.limiter,
                    client,
                    allow_plain=server.allow_plain,
                )
            ctx = Ctx(server=server, request=request, params=params, user=user)
            result = await run_in_threadpool(m.handler, ctx)
        except ApiError as exc:
            return render(error_body(exc.code, exc.message), fmt, callback)
        except Exception as exc:
            log.exception("%s failed", name)
            return render(
                error_body(GENERIC, f"Internal error in {name}: {type(exc).__name__}"),
                fmt,
                callback,
            )
        if isinstance(result, Response):
            return result
        return render(envelope(result), fmt, callback)

    routes: list[Route | Mount] = [
        Route("/rest/{method:str}", rest, methods=["GET", "POST", "HEAD"]),
    ]
    if STATIC_DIR.is_dir():
        routes.append(Mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="player"))
    app = Starlette(routes=routes)
    app.state.server = server
    return app
