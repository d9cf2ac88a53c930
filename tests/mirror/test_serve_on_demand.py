"""`musark serve --fetch-on-demand` over a mirror: a track not mirrored yet is fetched, then streamed."""

from __future__ import annotations

import hashlib

import httpx

from musark.serve.app import create_app
from musark.serve.users import UserStore
from tests.mirror.released import Released, Seeder
from tests.serve.conftest import Running, _start, free_port


def _serve(mirror, **kw) -> tuple[Running, object, object]:
    UserStore(mirror).add("listener", "listener-pw")
    port = free_port()
    server, thread = _start(create_app(mirror, **kw), port)
    http = httpx.Client(timeout=120)
    return Running(f"http://127.0.0.1:{port}", port, None, http), server, thread  # type: ignore[arg-type]


def test_a_missing_track_is_fetched_from_the_swarm_and_streamed(
    released: Released, seeder: Seeder, mirror
):
    t = released.by_batch("opus75__0001")[3]
    run, server, thread = _serve(mirror, fetch_on_demand=True, fetch_peers=[seeder.peer])
    try:
        resp = run.get("stream", user="listener", password="listener-pw", id=f"tr-{t.id}")
        assert resp.status_code == 200, resp.text
        assert hashlib.sha256(resp.content).hexdigest() == t.sha256
        assert (mirror.batch_dir(t.batch) / t.path).is_file()  # now part of the mirror, verified
    finally:
        run.http.close()
        server.should_exit = True
        thread.join(10)


def test_without_fetch_on_demand_a_missing_track_is_a_clear_not_found(released: Released, mirror):
    t = released.by_batch("keep__0001")[1]
    run, server, thread = _serve(mirror)
    try:
        body = run.json("stream", user="listener", password="listener-pw", id=f"tr-{t.id}")
        assert body["status"] == "failed" and body["error"]["code"] == 70
        assert "not in this mirror" in body["error"]["message"]
    finally:
        run.http.close()
        server.should_exit = True
        thread.join(10)
