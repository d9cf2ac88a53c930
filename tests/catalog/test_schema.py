"""The catalogue schema: created on first use, older catalogues brought up to date on open."""

from __future__ import annotations

import re

import duckdb

from musark.catalog.schema import TABLES, connect
from tests.catalog.conftest import rows

_TRACK_FILES_SQL = "SELECT sql FROM duckdb_tables() WHERE table_name = 'track_files'"
_STORED = (
    "SELECT DISTINCT compression FROM pragma_storage_info('track_files') "
    "WHERE column_name = 'track_id' AND segment_type = 'VARCHAR'"
)


def test_a_new_catalogue_stores_track_file_ids_with_zstd(archive):
    con = connect(archive.catalog_db)
    con.execute(
        "INSERT INTO track_files (track_id, tier, status) "
        "SELECT 't' || i, 'keep', 'planned' FROM range(5000) r(i)"
    )
    con.execute("CHECKPOINT")
    con.close()
    assert "USING COMPRESSION ZSTD" in rows(archive, _TRACK_FILES_SQL)[0][0]
    assert rows(archive, _STORED) == [("ZSTD",)]


def test_track_files_of_an_older_catalogue_is_rebuilt_with_every_row_and_column(archive):
    # the DDL before track ids were zstd-compressed, with rows that plan and process wrote
    old_ddl = re.sub(r"\s+USING COMPRESSION zstd", "", TABLES["track_files"])
    assert old_ddl != TABLES["track_files"]
    con = duckdb.connect(str(archive.catalog_db))
    con.execute(old_ddl)
    con.execute(
        """
        INSERT INTO track_files (track_id, batch, seq_in_batch, tier, codec, target_kbps,
                                 est_bytes, status, dedup_of, ext, size, sha256, processed_at)
        SELECT 't' || i, 'keep__0001', i::INTEGER, 'keep', 'vorbis', 160, 1000 + i,
               CASE WHEN i % 3 = 0 THEN 'done' ELSE 'planned' END,
               CASE WHEN i % 7 = 0 THEN 't0' END, 'ogg', 2000 + i, md5(i::VARCHAR),
               TIMESTAMP '2026-01-01' + to_seconds(i)
        FROM range(3000) r(i)
        """
    )
    con.close()
    before = rows(archive, "SELECT * FROM track_files ORDER BY track_id")
    assert "USING COMPRESSION" not in rows(archive, _TRACK_FILES_SQL)[0][0]

    connect(archive.catalog_db).close()

    assert rows(archive, "SELECT * FROM track_files ORDER BY track_id") == before
    assert "USING COMPRESSION ZSTD" in rows(archive, _TRACK_FILES_SQL)[0][0]
    assert rows(
        archive, "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'track_files%'"
    ) == [(1,)]
    connect(archive.catalog_db).close()  # up to date: opening again changes nothing
    assert rows(archive, "SELECT * FROM track_files ORDER BY track_id") == before
