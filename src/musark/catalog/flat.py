"""CSV and Parquet dumps: one flat row per track, columns named as in docs/catalog.md.

Rows stream through Arrow record batches of ``chunk_rows`` (DuckDB's CSV reader, pyarrow's Parquet
reader), so memory stays bounded; each batch is validated by validate.py in one SQL pass. Artists
are two parallel ``;``-separated columns (``artist_ids``, ``artist_names``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from musark.catalog.validate import ORD_SHIFT, RAW_FIELDS, stage_chunk

# Flat column names beyond the raw text fields (which keep their names, see validate.RAW_FIELDS).
EXTRA_COLUMNS = (
    "artist_ids",
    "artist_names",
    "artist_genres",
    "image_url",
    "image_width",
    "image_height",
)
FLAT_COLUMNS = tuple(f for f in RAW_FIELDS if not f.startswith("audio_")) + EXTRA_COLUMNS


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def flat_raw_sql(view: str, columns: list[str], source: str, source_no: int) -> str:
    """SQL turning a registered flat batch (with a ``_row`` column) into raw records."""
    have = {c.lower(): c for c in columns}

    def col(name: str) -> str:
        return f'CAST("{have[name]}" AS VARCHAR)' if name in have else "NULL::VARCHAR"

    fields = ", ".join(f"{col(f)} AS {f}" for f in RAW_FIELDS)
    raw_obj = ", ".join(f"{_q(c)}, {col(c.lower())}" for c in columns if c != "_row")
    return f"""
    SELECT
        {source_no}::BIGINT * {ORD_SHIFT} + _row AS ord, {_q(source)} AS source,
        _row::VARCHAR AS locator, json_object({raw_obj})::VARCHAR AS raw,
        NULL::VARCHAR AS pre_reason,
        {fields},
        CASE WHEN nullif({col("artist_ids")}, '') IS NOT NULL THEN list_transform(
            list_zip(string_split({col("artist_ids")}, ';'),
                     string_split(coalesce({col("artist_names")}, ''), ';')),
            lambda p: struct_pack(id := trim(p[1]), name := trim(p[2]),
                followers := NULL::VARCHAR, popularity := NULL::VARCHAR,
                genres := CASE WHEN nullif({col("artist_genres")}, '') IS NOT NULL
                    THEN list_transform(string_split({col("artist_genres")}, ';'), lambda g: trim(g))
                    END))
        END AS artists,
        CASE WHEN nullif({col("image_url")}, '') IS NOT NULL THEN [struct_pack(
            url := {col("image_url")}, width := {col("image_width")},
            height := {col("image_height")})] END AS images
    FROM {view}
    """


def _stage_batches(
    con: duckdb.DuckDBPyConnection, batches, source: str, source_no: int, on_rows
) -> tuple[int, int]:
    ok = bad = 0
    first = 1
    for batch in batches:
        n = batch.num_rows
        if n == 0:
            continue
        table = pa.Table.from_batches([batch]).append_column(
            "_row", pa.array(np.arange(first, first + n, dtype=np.int64))
        )
        first += n
        con.register("_flat_batch", table)
        try:
            o, b = stage_chunk(
                con, flat_raw_sql("_flat_batch", table.column_names, source, source_no)
            )
        finally:
            con.unregister("_flat_batch")
        ok += o
        bad += b
        if on_rows is not None:
            on_rows(n)
    return ok, bad


def _csv_columns(path: Path, delim: str) -> str:
    """The header's column names as a read_csv ``columns`` struct, all VARCHAR (no sniffing:
    a dump with bad lines must still be read the way its header says)."""
    import csv
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        header = next(csv.reader(fh, delimiter=delim), None)
    if not header:
        raise ValueError(f"{path}: empty CSV (a header row naming the columns is required)")
    return "{" + ", ".join(f"{_q(h.strip())}: 'VARCHAR'" for h in header) + "}"


def stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, source_no: int, chunk_rows: int, on_rows=None
) -> tuple[int, int]:
    """Stage a CSV dump (header row required); unparsable lines become ``invalid_csv``/``invalid_utf8`` rejects."""
    delim = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    # a second connection streams the CSV while the first one stages (a query on the same
    # connection would close the streaming result)
    reader = con.cursor()
    try:
        rel = reader.sql(
            f"SELECT * FROM read_csv({_q(str(path))}, header = true, auto_detect = false, "
            f"columns = {_csv_columns(path, delim)}, delim = {_q(delim)}, quote = '\"', "
            "escape = '\"', store_rejects = true, rejects_table = '_csv_errors', "
            "rejects_scan = '_csv_scans')"
        )
        ok, bad = _stage_batches(
            con, rel.to_arrow_reader(chunk_rows), str(path), source_no, on_rows
        )
        errors = reader.sql("""
            SELECT DISTINCT ON (line) line, error_type::VARCHAR AS error_type, csv_line,
                   error_message
            FROM _csv_errors ORDER BY line""").to_arrow_table()
    finally:
        reader.close()
    con.register("_csv_errors_batch", errors)
    try:
        con.execute(f"""
            INSERT INTO stage_rejects
            SELECT {_q(str(path))}, 'line ' || line,
                   CASE WHEN error_type ILIKE '%UNICODE%' OR error_type ILIKE '%ENCODING%'
                        THEN 'invalid_utf8' ELSE 'invalid_csv' END,
                   left(coalesce(csv_line, '') || ' -- ' || coalesce(error_message, ''), 4000)
            FROM _csv_errors_batch""")
    finally:
        con.unregister("_csv_errors_batch")
    return ok, bad + errors.num_rows


def stage_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, source_no: int, chunk_rows: int, on_rows=None
) -> tuple[int, int]:
    """Stage a Parquet dump of flat track rows, one record batch at a time."""
    pf = pq.ParquetFile(path)
    return _stage_batches(
        con, pf.iter_batches(batch_size=chunk_rows), str(path), source_no, on_rows
    )
