"""``musark serve``: the app under uvicorn, bound to loopback unless told otherwise."""

from __future__ import annotations

import logging
import re

import uvicorn

from musark.archive import Archive
from musark.serve.app import create_app

_SECRET_RE = re.compile(r"([?&](?:apiKey|p|t|s)=)[^&\s]*")


class RedactCredentials(logging.Filter):
    """Keep passwords, tokens and API keys of query strings out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_RE.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


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
    logging.getLogger("uvicorn.access").addFilter(RedactCredentials())
    app = create_app(archive, allow_plain=allow_plain, fetch_on_demand=fetch_on_demand)
    uvicorn.run(
        app,
        host=host or cfg.get("host", "127.0.0.1"),
        port=port if port is not None else int(cfg.get("port", 4533)),
        log_level=log_level,
        # Range requests and transcodes are served by threads; keep the event loop single.
        workers=None,
    )
