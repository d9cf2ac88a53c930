"""One SQLite connection per thread: the server's handlers run on a thread pool."""

from __future__ import annotations

import sqlite3
import threading


class PerThread:
    """Opens ``target`` once per thread (a path, or a URI when ``uri``) with the given setup."""

    def __init__(self, target: str, *, uri: bool = False, rows: bool = False) -> None:
        self.target, self.uri, self.rows = target, uri, rows
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        """This thread's connection."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.target, uri=self.uri, timeout=30, check_same_thread=False)
            con.execute("PRAGMA foreign_keys = ON")
            if self.rows:
                con.row_factory = sqlite3.Row
            self._local.con = con
        return con
