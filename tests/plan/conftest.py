"""Fixtures for plan tests: archives holding a synthetic catalogue, and table readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from musark.archive import Archive
from musark.catalog.schema import connect
from tests.plan.catalogue import fill_catalogue

N_TRACKS = 20000


def query(archive: Archive, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Run one SQL statement on the archive's catalogue and return all rows."""
    con = duckdb.connect(str(archive.catalog_db))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def catalogue() -> Callable[..., Archive]:
    """Fill an archive's catalogue: catalogue(archive, n, start=0, seed=0, streams=False)."""

    def fill(archive: Archive, n: int = N_TRACKS, **kw: Any) -> Archive:
        con = connect(archive.catalog_db)
        try:
            fill_catalogue(con, n, **kw)
        finally:
            con.close()
        return archive

    return fill


@pytest.fixture
def cat_archive(archive: Archive, catalogue) -> Archive:
    """An archive with a 20,000-track synthetic catalogue and no plan yet."""
    return catalogue(archive)
