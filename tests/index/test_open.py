"""open_index: a mirror holding only the .zst gets a read-only connection, decompressed once."""

from __future__ import annotations

import sqlite3

import pytest
import zstandard

from musark.index.open import open_index
from musark.index.schema import create_schema


def _publish_tiny_index(archive) -> None:
    src = archive.index_dir / "build.sqlite3"
    con = sqlite3.connect(src)
    create_schema(con)
    con.execute("INSERT INTO artists(id, name) VALUES ('ar1', 'Somebody')")
    con.commit()
    con.close()
    archive.index_zst.write_bytes(zstandard.ZstdCompressor().compress(src.read_bytes()))
    src.unlink()


def test_open_index_decompresses_once_and_is_read_only(archive):
    _publish_tiny_index(archive)
    con = open_index(archive)
    assert con.execute("SELECT name FROM artists WHERE id = 'ar1'").fetchone()["name"] == "Somebody"
    with pytest.raises(sqlite3.OperationalError):
        con.execute("INSERT INTO artists(id, name) VALUES ('x', 'y')")
    con.close()
    mtime = archive.index_db.stat().st_mtime_ns
    open_index(archive).close()
    assert archive.index_db.stat().st_mtime_ns == mtime


def test_open_index_without_any_index_names_the_file(archive):
    with pytest.raises(FileNotFoundError, match=r"musark_index\.sqlite3\.zst"):
        open_index(archive)
