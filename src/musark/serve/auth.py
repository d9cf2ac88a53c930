"""Authentication of API requests: token (t, s), API key, and (when enabled) plain passwords.

Failed attempts are rate-limited per (user, client address): after a few free failures every
further attempt waits an exponentially growing delay, answered with error 40 and the delay.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field

from musark.serve import errors
from musark.serve.errors import ApiError
from musark.serve.params import Params
from musark.serve.users import InvalidToken, User, UserStore

FREE_FAILURES = 3
MAX_DELAY_S = 300.0


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0


@dataclass
class RateLimiter:
    """Exponential back-off on failed logins, keyed by (user, client address)."""

    free_failures: int = FREE_FAILURES
    max_delay: float = MAX_DELAY_S
    _state: dict[tuple[str, str], _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, key: tuple[str, str]) -> None:
        """Raise error 40 while ``key`` is locked out."""
        with self._lock:
            f = self._state.get(key)
            wait = f.until - time.monotonic() if f else 0.0
        if wait > 0:
            raise ApiError(
                errors.WRONG_CREDENTIALS,
                f"Too many failed logins for user {key[0]!r} from {key[1]}; retry in {wait:.0f} s",
            )

    def failed(self, key: tuple[str, str]) -> None:
        """Count a failure; past the free ones, lock ``key`` out for 2^(n-free) seconds."""
        with self._lock:
            f = self._state.setdefault(key, _Failures())
            f.count += 1
            if f.count > self.free_failures:
                delay = min(self.max_delay, 2.0 ** (f.count - self.free_failures))
                f.until = time.monotonic() + delay

    def succeeded(self, key: tuple[str, str]) -> None:
        """Forget the failures of ``key``."""
        with self._lock:
            self._state.pop(key, None)


def _decode_plain(p: str) -> str:
    if p.startswith("enc:"):
        try:
            return bytes.fromhex(p[4:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(errors.WRONG_CREDENTIALS, "Wrong username or password") from None
    return p


def authenticate(
    params: Params, users: UserStore, limiter: RateLimiter, client: str, *, allow_plain: bool
) -> User:
    """Return the authenticated user, or raise the OpenSubsonic error for the request's credentials."""
    api_key, name = params.get("apiKey"), params.get("u")
    token, salt, plain = params.get("t"), params.get("s"), params.get("p")
    if api_key is not None:
        if name is not None or token is not None or plain is not None:
            raise ApiError(
                errors.CONFLICTING_AUTH,
                "Multiple conflicting authentication mechanisms provided: apiKey with u/t/p",
            )
        key = ("<apiKey>", client)
        limiter.check(key)
        user = users.user_for_key(api_key)
        if user is None:
            limiter.failed(key)
            raise ApiError(errors.INVALID_API_KEY, "Invalid API key")
        limiter.succeeded(key)
        return user
    if not name:
        raise errors.missing("u")
    if token is not None and plain is not None:
        raise ApiError(
            errors.CONFLICTING_AUTH,
            "Multiple conflicting authentication mechanisms provided: t and p",
        )
    if token is None and plain is None:
        raise errors.missing("t")
    if token is not None and not salt:
        raise errors.missing("s")
    if plain is not None and not allow_plain:
        raise ApiError(
            errors.AUTH_MECHANISM_NOT_SUPPORTED,
            "Plain-text passwords are disabled on this server; use token (t, s) or apiKey "
            "(or enable [serve] allow_plain_passwords)",
        )
    key = (name, client)
    limiter.check(key)
    try:
        password = users.password(name)
    except InvalidToken:
        raise ApiError(
            errors.TOKEN_NOT_SUPPORTED,
            f"Token authentication is not possible for user {name!r}: the stored password cannot "
            "be decrypted with state/secret.key; reset it with `musark user passwd`",
        ) from None
    if password is None:
        ok = False
    elif token is not None:
        expected = hashlib.md5((password + (salt or "")).encode("utf-8")).hexdigest()
        ok = hmac.compare_digest(expected, token.lower())
    else:
        ok = hmac.compare_digest(
            password.encode("utf-8"), _decode_plain(plain or "").encode("utf-8")
        )
    if not ok:
        limiter.failed(key)
        raise ApiError(errors.WRONG_CREDENTIALS, "Wrong username or password")
    limiter.succeeded(key)
    user = users.get(name)
    assert user is not None
    return user
