"""The libtorrent session used by fetch and verify --repair, configured from ``[mirror]`` settings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import libtorrent as lt

from musark import __version__

_PEER_RE = re.compile(r"^\[?(?P<host>[^\[\]]+?)\]?:(?P<port>\d{1,5})$")


def parse_peer(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` or ``[IPv6]:PORT`` into a (host, port) pair, or raise ValueError."""
    m = _PEER_RE.match(text.strip())
    if not m or not 0 < int(m["port"]) < 65536:
        raise ValueError(f"invalid peer {text!r}: expected HOST:PORT")
    return m["host"], int(m["port"])


def session_settings(
    mirror: Mapping[str, Any], *, peers: Sequence[tuple[str, int]] = (), listen: str | None = None
) -> dict[str, Any]:
    """libtorrent settings_pack for a fetch: discovery per settings, all of it off when peers are given."""
    discover = not peers
    return {
        "listen_interfaces": listen or mirror.get("listen_interfaces", "0.0.0.0:6881"),
        "enable_dht": discover and bool(mirror.get("dht", True)),
        "enable_lsd": discover and bool(mirror.get("lsd", True)),
        "enable_upnp": discover and bool(mirror.get("upnp", True)),
        "enable_natpmp": discover and bool(mirror.get("natpmp", True)),
        "user_agent": f"musark/{__version__}",
        "peer_fingerprint": lt.generate_fingerprint("MU", 0, 1, 0, 0),
        # Several peers of one host (a seedbox, or loopback in tests) are normal for a mirror.
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert_category.error
        | lt.alert_category.status
        | lt.alert_category.storage,
    }


def make_session(
    mirror: Mapping[str, Any], *, peers: Sequence[tuple[str, int]] = (), listen: str | None = None
) -> lt.session:
    """A started libtorrent session for fetching."""
    return lt.session(session_settings(mirror, peers=peers, listen=listen))
