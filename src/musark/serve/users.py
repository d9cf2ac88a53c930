"""Users of a server: ``state/users.sqlite3``, passwords encrypted at rest, hashed API keys.

Subsonic token auth sends md5(password + salt), so the server must be able to recover each
password: it is stored encrypted with Fernet (AES-128-CBC + HMAC) under ``state/secret.key``,
a key file created with mode 0600. API keys are random and only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from musark.archive import Archive
from musark.fsio import atomic_write_bytes
from musark.serve.dbconn import PerThread

USERS_DB = "users.sqlite3"
KEY_FILE = "secret.key"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

_DDL = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_enc BLOB NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_sha256 TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created INTEGER NOT NULL
);
"""


class UserError(ValueError):
    """A user command that cannot be done (unknown user, duplicate, bad name)."""


@dataclass(frozen=True)
class User:
    """A user account as the API sees it."""

    name: str
    admin: bool


def _key(state_dir: Path) -> Fernet:
    path = state_dir / KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, Fernet.generate_key(), mode=0o600)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return Fernet(path.read_bytes().strip())


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class UserStore:
    """Read and change the users of one archive's server."""

    def __init__(self, archive: Archive) -> None:
        self.state_dir = archive.state_dir
        self.path = self.state_dir / USERS_DB
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._fernet = _key(self.state_dir)
        self._db = PerThread(str(self.path))
        with self._connect() as con:
            con.executescript(_DDL)

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (a server checks credentials on every request)."""
        return self._db.get()

    def add(self, name: str, password: str, *, admin: bool = False) -> User:
        """Create a user; UserError when the name is taken or malformed."""
        if not _NAME_RE.match(name):
            raise UserError(f"invalid user name {name!r}: use [A-Za-z0-9_.@-], 1-64 characters")
        if not password:
            raise UserError(f"user {name!r}: the password must not be empty")
        enc = self._fernet.encrypt(password.encode("utf-8"))
        try:
            with self._connect() as con:
                con.execute(
                    "INSERT INTO users(name, password_enc, admin, created) VALUES (?, ?, ?, ?)",
                    (name, enc, int(admin), int(time.time())),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} already exists") from None
        return User(name, admin)

    def remove(self, name: str) -> None:
        """Delete a user and their API keys; UserError when unknown."""
        with self._connect() as con:
            if con.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise UserError(f"no user named {name!r}")

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password; UserError when unknown."""
        if not password:
            raise UserError(f"user {name!r}: the password must not be empty")
        enc = self._fernet.encrypt(password.encode("utf-8"))
        with self._connect() as con:
            cur = con.execute("UPDATE users SET password_enc = ? WHERE name = ?", (enc, name))
            if cur.rowcount == 0:
                raise UserError(f"no user named {name!r}")

    def new_api_key(self, name: str) -> str:
        """Create and return a new API key for ``name`` (only its hash is kept)."""
        key = secrets.token_urlsafe(32)
        with self._connect() as con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise UserError(f"no user named {name!r}")
            con.execute(
                "INSERT INTO api_keys(key_sha256, user, created) VALUES (?, ?, ?)",
                (_hash_key(key), name, int(time.time())),
            )
        return key

    def list(self) -> list[dict]:
        """Every user with role and number of API keys."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT u.name, u.admin, u.created, count(k.key_sha256) FROM users u "
                "LEFT JOIN api_keys k ON k.user = u.name GROUP BY u.name ORDER BY u.name"
            ).fetchall()
        return [
            {"name": n, "role": "admin" if a else "listener", "created": c, "api_keys": k}
            for n, a, c, k in rows
        ]

    def get(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        with self._connect() as con:
            row = con.execute("SELECT name, admin FROM users WHERE name = ?", (name,)).fetchone()
        return User(row[0], bool(row[1])) if row else None

    def password(self, name: str) -> str | None:
        """The clear password of ``name`` (for token checks); None when unknown.

        Raises InvalidToken when the key file no longer matches the stored ciphertext.
        """
        with self._connect() as con:
            row = con.execute("SELECT password_enc FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return self._fernet.decrypt(row[0]).decode("utf-8")

    def user_for_key(self, key: str) -> User | None:
        """The owner of API key ``key``, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT u.name, u.admin FROM api_keys k JOIN users u ON u.name = k.user "
                "WHERE k.key_sha256 = ?",
                (_hash_key(key),),
            ).fetchone()
        return User(row[0], bool(row[1])) if row else None


__all__ = ["InvalidToken", "User", "UserError", "UserStore"]
