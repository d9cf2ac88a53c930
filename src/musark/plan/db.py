"""Opening the catalogue for planning: memory limit, threads and spilling from [catalog] settings."""

from __future__ import annotations

import duckdb

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.plan.settings import PlanSettings


def open_catalog(
    archive: Archive, ps: PlanSettings, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open ARCHIVE/catalog.duckdb with bounded memory (big sorts and joins spill to disk)."""
    con = connect(archive.catalog_db, read_only=read_only)
    if ps.memory_limit:
        con.execute(f"SET memory_limit = '{ps.memory_limit.replace(chr(39), '')}'")
    if ps.threads > 0:
        con.execute(f"SET threads = {int(ps.threads)}")
    # Order-preserving operators hold whole results in memory; nothing here needs insertion order.
    con.execute("SET preserve_insertion_order = false")
    # DuckDB's own bar would write into stdout (and corrupt --json); musark shows its own.
    con.execute("SET enable_progress_bar = false")
    return con
