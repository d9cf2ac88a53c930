"""Authentication: token, API key, plain passwords only when enabled, conflicts, and rate limiting."""

from __future__ import annotations

import hashlib
import time

import httpx

from musark.serve.auth import RateLimiter
from musark.serve.users import UserStore
from tests.serve.conftest import LISTENER, LISTENER_PW, Running


def _call(running: Running, method: str = "ping", **params) -> dict:
    resp = running.http.post(f"{running.url}/rest/{method}.view", data={"f": "json", **params})
    assert resp.status_code == 200
    return resp.json()["subsonic-response"]


def _token(password: str, salt: str) -> dict:
    return {"t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt}


def test_token_auth_by_get_and_form_post(running: Running):
    assert running.json("ping")["status"] == "ok"
    assert _call(running, u=LISTENER, **_token(LISTENER_PW, "s4lt"))["status"] == "ok"


def test_open_subsonic_extensions_need_no_auth(running: Running):
    body = httpx.get(f"{running.url}/rest/getOpenSubsonicExtensions?f=json").json()
    body = body["subsonic-response"]
    assert body["openSubsonic"] is True and body["type"] == "musark"
    assert {e["name"] for e in body["openSubsonicExtensions"]} == {
        "formPost",
        "apiKeyAuthentication",
        "transcodeOffset",
    }


def test_wrong_credentials_are_error_40(running: Running):
    err = _call(running, u=LISTENER, **_token("wrong", "aa"))["error"]
    assert err["code"] == 40
    assert _call(running, u="nobody", **_token("x", "aa"))["error"]["code"] == 40


def test_missing_credentials_are_error_10(running: Running):
    assert _call(running)["error"]["code"] == 10
    assert _call(running, u=LISTENER)["error"]["code"] == 10
    assert _call(running, u=LISTENER, t="abc")["error"]["code"] == 10


def test_plain_password_is_error_42_unless_enabled(running: Running, plain_server: Running):
    assert _call(running, u=LISTENER, p=LISTENER_PW)["error"]["code"] == 42
    assert _call(plain_server, u=LISTENER, p=LISTENER_PW)["status"] == "ok"
    hexed = "enc:" + LISTENER_PW.encode().hex()
    assert _call(plain_server, u=LISTENER, p=hexed)["status"] == "ok"
    assert _call(plain_server, u=LISTENER, p="enc:zz")["error"]["code"] == 40


def test_api_key(running: Running, api_key: str):
    assert _call(running, apiKey=api_key)["status"] == "ok"
    assert (
        _call(running, "getUser", apiKey=api_key, username=LISTENER)["user"]["username"] == LISTENER
    )
    assert _call(running, apiKey="not-a-key")["error"]["code"] == 44
    assert _call(running, apiKey=api_key, u=LISTENER)["error"]["code"] == 43
    assert _call(running, u=LISTENER, p="x", **_token(LISTENER_PW, "s"))["error"]["code"] == 43


def test_failed_logins_back_off_per_user_and_address(running: Running):
    UserStore(running.released.archive).add("carol", "carol-pw")
    codes = [_call(running, u="carol", **_token("guess", "s"))["error"] for _ in range(5)]
    assert all(e["code"] == 40 for e in codes)
    assert "Too many failed logins" in codes[-1]["message"]
    # While locked out even the right password is refused, with the delay named.
    locked = _call(running, u="carol", **_token("carol-pw", "s"))["error"]
    assert locked["code"] == 40 and "retry in" in locked["message"]
    # Another user from the same address is unaffected.
    assert _call(running, u=LISTENER, **_token(LISTENER_PW, "s"))["status"] == "ok"


def test_rate_limiter_backs_off_exponentially_and_resets():
    limiter = RateLimiter(free_failures=2, max_delay=8)
    key = ("u", "1.2.3.4")
    limiter.failed(key)
    limiter.failed(key)
    limiter.check(key)  # two free failures
    limiter.failed(key)
    waits = []
    for _ in range(4):
        waits.append(limiter._state[key].until - time.monotonic())
        limiter.failed(key)
    assert 1 < waits[1] <= 4 and waits[-1] <= 8
    limiter.succeeded(key)
    limiter.check(key)
