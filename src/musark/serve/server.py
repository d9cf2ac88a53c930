"""``musark serve``: the app under uvicorn, bound to loopback unless told otherwise."""

from __future__ import annotations

import uvicorn

from musark.archive import Archive
from musark.serve.app import create_app


def run_server(
    archive: Archive,
    *,
    host: str | None = None,
    port: int | None = None,
    allow_plain: bool | None = None,
    fetch_on_demand: bool = False,
    log_level: str = "info",
) -> None:
    """Build the search index when needed, then serve the API and web player until interrupted."""
    cfg = archive.settings.section("serve")
    app = create_app(archive, allow_plain=allow_plain, fetch_on_demand=fetch_on_demand)
    uvicorn.run(
        app,
        host=host or cfg.get("host", "127.0.0.1"),
        port=port if port is not None else int(cfg.get("port", 4533)),
        log_level=log_level,
        # Range requests and transcodes are served by threads; keep the event loop single.
        workers=None,
    )
