"""Real BitTorrent peers on 127.0.0.1: libtorrent sessions and a minimal HTTP tracker (BEP 3/23)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import libtorrent as lt

from musark.pack.bencode import bencode

LOOPBACK_ONLY = {
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "enable_incoming_utp": False,
    "enable_outgoing_utp": False,
    "allow_multiple_connections_per_ip": True,
    "announce_to_all_trackers": True,
}


def session() -> lt.session:
    """A libtorrent session listening on 127.0.0.1 only, with every discovery mechanism off."""
    return lt.session(
        {
            "listen_interfaces": "127.0.0.1:0",
            "alert_mask": lt.alert_category.error | lt.alert_category.storage,
            **LOOPBACK_ONLY,
        }
    )


def add(ses: lt.session, torrent: Path, save_path: Path) -> lt.torrent_handle:
    """Add a .torrent with its data under ``save_path`` (checked against the pieces first)."""
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(str(torrent))
    atp.save_path = str(save_path)
    return ses.add_torrent(atp)


def wait_seeding(h: lt.torrent_handle, timeout: float = 90.0) -> lt.torrent_status:
    """Block until ``h`` has every piece; fail with its state otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = h.status()
        if st.is_seeding:
            return st
        if st.errc.value():
            raise AssertionError(f"torrent error: {st.errc.message()}")
        time.sleep(0.1)
    st = h.status()
    raise AssertionError(f"not complete after {timeout}s: state={st.state} progress={st.progress}")


def wait_on_disk(ses: lt.session, h: lt.torrent_handle, timeout: float = 30.0) -> None:
    """Block until ``h``'s downloaded blocks are written to disk.

    libtorrent verifies a piece from its store buffer before the write job has run, so a torrent
    can report seeding while a file is not yet on disk; a cache flush is answered once it is.
    """
    h.flush_cache()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.cache_flushed_alert) and alert.handle == h:
                return
    raise AssertionError(f"libtorrent did not flush {h.status().name} within {timeout}s")


@contextlib.contextmanager
def tracker(peers: list[tuple[str, int]]) -> Iterator[str]:
    """An HTTP tracker on 127.0.0.1 answering every announce with ``peers`` (compact form)."""
    compact = b"".join(socket.inet_aton(ip) + struct.pack(">H", port) for ip, port in peers)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bencode({"interval": 5, "min interval": 1, "peers": compact})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/announce"
    finally:
        server.shutdown()
        server.server_close()


def aria2c_args(down: Path, announce: str, ports: str = "46881-46981") -> list[str]:
    """aria2c options for a loopback-only download into ``down`` via the tracker ``announce``."""
    return [
        f"--dir={down}",
        f"--bt-tracker={announce}",
        "--interface=127.0.0.1",
        "--disable-ipv6=true",
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--seed-time=0",
        "--bt-stop-timeout=60",
        f"--listen-port={ports}",
        "--console-log-level=warn",
        "--summary-interval=0",
    ]
