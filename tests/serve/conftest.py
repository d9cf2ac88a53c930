"""Fixtures: one released archive with users, and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from musark.serve.app import create_app
from musark.serve.users import UserStore
from tests.serve.released import Released, build_released

ADMIN, ADMIN_PW = "alice", "s3cret-Pässword"
LISTENER, LISTENER_PW = "bob", "hunter2"


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    """The released archive (built once per session) with an admin and a listener."""
    rel = build_released(tmp_path_factory.mktemp("serve") / "archive")
    users = UserStore(rel.archive)
    users.add(ADMIN, ADMIN_PW, admin=True)
    users.add(LISTENER, LISTENER_PW)
    return rel


@pytest.fixture(scope="session")
def api_key(released: Released) -> str:
    """An API key of the listener."""
    return UserStore(released.archive).new_api_key(LISTENER)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    """A server running in this process and how to call it."""

    url: str
    port: int
    released: Released
    http: httpx.Client

    def get(self, method: str, user: str = LISTENER, password: str = LISTENER_PW, **params):
        """GET /rest/<method> with token auth; returns the httpx response."""
        salt = "c0ffee"
        token = hashlib.md5((password + salt).encode()).hexdigest()
        base = {"u": user, "t": token, "s": salt, "v": "1.16.1", "c": "tests", "f": "json"}
        return self.http.get(f"{self.url}/rest/{method}", params={**base, **params})

    def json(self, method: str, **params) -> dict:
        """The subsonic-response object of a JSON call."""
        resp = self.get(method, **params)
        assert resp.status_code == 200, resp.text
        return resp.json()["subsonic-response"]


def _start(app, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread


@pytest.fixture(scope="session")
def running(released: Released, api_key: str) -> Iterator[Running]:
    """The app under a real uvicorn on a free loopback port (token, apiKey; plain disabled)."""
    port = free_port()
    server, thread = _start(create_app(released.archive), port)
    with httpx.Client(timeout=30) as http:
        yield Running(f"http://127.0.0.1:{port}", port, released, http)
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def plain_server(released: Released) -> Iterator[Running]:
    """A second server on the same archive with plain passwords allowed."""
    port = free_port()
    server, thread = _start(create_app(released.archive, allow_plain=True), port)
    with httpx.Client(timeout=30) as http:
        yield Running(f"http://127.0.0.1:{port}", port, released, http)
    server.should_exit = True
    thread.join(10)


__all__ = ["ADMIN", "ADMIN_PW", "LISTENER", "LISTENER_PW", "Path", "Running"]
