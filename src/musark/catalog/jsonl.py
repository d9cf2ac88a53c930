"""JSONL dumps (plain, .zst, .gz): one API-style track object per line, read in bounded blocks.

The file is decompressed as a stream and cut into blocks at line ends; each block becomes an Arrow
array of lines (split in C++, never a Python loop per line) that DuckDB parses with
``json_transform`` in parallel. Line numbers are kept so every reject names its line.
"""

from __future__ import annotations

import gzip
import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import zstandard

from musark.catalog.validate import stage_chunk

BLOCK_BYTES = 64 * 1024 * 1024
ARROW_BATCH_ROWS = 4096

_STRUCTURE = {
    "id": "VARCHAR",
    "name": "VARCHAR",
    "album": {
        "id": "VARCHAR",
        "name": "VARCHAR",
        "album_type": "VARCHAR",
        "label": "VARCHAR",
        "copyrights": [{"text": "VARCHAR", "type": "VARCHAR"}],
        "external_ids": {"upc": "VARCHAR"},
        "release_date": "VARCHAR",
        "release_date_precision": "VARCHAR",
        "total_tracks": "VARCHAR",
        "popularity": "VARCHAR",
        "images": [{"url": "VARCHAR", "width": "VARCHAR", "height": "VARCHAR"}],
    },
    "artists": [
        {
            "id": "VARCHAR",
            "name": "VARCHAR",
            "followers": {"total": "VARCHAR"},
            "popularity": "VARCHAR",
            "genres": ["VARCHAR"],
        }
    ],
    "track_number": "VARCHAR",
    "disc_number": "VARCHAR",
    "duration_ms": "VARCHAR",
    "explicit": "VARCHAR",
    "external_ids": {"isrc": "VARCHAR"},
    "popularity": "VARCHAR",
    "streams": "VARCHAR",
    "fetched_at": "VARCHAR",
}


def open_stream(path: Path) -> BinaryIO:
    """Open a dump for reading, decompressing .zst/.gz transparently."""
    name = path.name.lower()
    if name.endswith(".zst"):
        fh = open(path, "rb")  # noqa: SIM115 - closed through the stream reader
        return zstandard.ZstdDecompressor().stream_reader(fh, closefd=True)  # type: ignore[return-value]
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def split_lines(buf: bytes) -> pa.LargeBinaryArray:
    """Zero-copy Arrow array of the lines in ``buf``, each keeping its newline (found by numpy)."""
    ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10)
    offsets = np.empty(len(ends) + 2, dtype=np.int64)
    offsets[0] = 0
    offsets[1:-1] = ends + 1
    offsets[-1] = len(buf)
    if len(ends) and ends[-1] == len(buf) - 1:
        offsets = offsets[:-1]  # no empty line after a final newline
    n = len(offsets) - 1
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )


def line_blocks(path: Path, max_lines: int) -> Iterator[pa.Table]:
    """Yield Arrow tables (line BIGINT, raw BINARY) of at most ``max_lines`` lines each."""
    first_line = 1
    carry = b""
    with open_stream(path) as fh:
        while True:
            data = fh.read(BLOCK_BYTES)
            eof = not data
            buf = carry + data
            if eof:
                carry = b""
                if not buf:
                    break
            else:
                cut = buf.rfind(b"\n")
                if cut < 0:
                    carry = buf
                    continue
                buf, carry = buf[:cut], buf[cut + 1 :]
            lines = split_lines(buf)
            n = len(lines)
            numbers = np.arange(first_line, first_line + n, dtype=np.int64)
            first_line += n
            for start in range(0, n, max_lines):
                table = pa.table(
                    {
                        "line": numbers[start : start + max_lines],
                        "raw": lines.slice(start, max_lines),
                    }
                )
                # DuckDB scans an Arrow table in parallel per record batch: give it many
                yield pa.Table.from_batches(table.to_batches(max_chunksize=ARROW_BATCH_ROWS))
            if eof:
                break


def prefetch(blocks: Iterator[pa.Table], depth: int = 1) -> Iterator[pa.Table]:
    """Produce ``blocks`` in a background thread, so reading, decompressing and splitting the next
    block overlaps DuckDB's work on the current one (both release the GIL)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for b in blocks:
                if stop.is_set():
                    return
                q.put(b)
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    t = threading.Thread(target=run, name="jsonl-reader", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while t.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def raw_sql(view: str, source: str, source_no: int) -> str:
    """SQL turning a registered block ``view`` into raw records (see validate.py)."""
    structure = json.dumps(_STRUCTURE).replace("'", "''")
    src = source.replace("'", "''")
    return f"""
    WITH d AS (
        SELECT line, raw, try(decode(raw)) AS txt  -- the JSON parser ignores the trailing newline
        FROM {view}
        WHERE octet_length(raw) > 2 OR raw NOT IN (''::BLOB, '\\x0A'::BLOB, '\\x0D\\x0A'::BLOB)
    ), j AS (
        SELECT line, txt, coalesce(txt, decode(raw, 'replace')) AS rawtext,
            CASE WHEN txt IS NULL THEN 'invalid_utf8'
                 WHEN NOT (left(txt, 1) = '{{' OR ltrim(txt) LIKE '{{%') THEN 'invalid_json' END
                AS pre_reason
        FROM d
    ), p AS (
        SELECT *, CASE WHEN pre_reason IS NULL AND json_valid(txt)
            THEN json_transform(txt, '{structure}') END AS r FROM j
    )
    SELECT
        {source_no}::BIGINT * 1099511627776 + line AS ord,
        '{src}' AS source, line::VARCHAR AS locator, rawtext AS raw,
        coalesce(pre_reason, CASE WHEN r IS NULL THEN 'invalid_json' END) AS pre_reason,
        r.id, r.name, r.album.id AS album_id, r.album.name AS album_name,
        r.album.album_type, r.album.label,
        list_filter(r.album.copyrights, lambda c: upper(c.type) = 'C')[1].text AS copyright_c,
        list_filter(r.album.copyrights, lambda c: upper(c.type) = 'P')[1].text AS copyright_p,
        r.album.external_ids.upc AS upc, r.album.release_date, r.album.release_date_precision,
        r.album.total_tracks, r.album.popularity AS album_popularity,
        r.track_number, r.disc_number, r.duration_ms, r.explicit,
        r.external_ids.isrc AS isrc, r.popularity, r.streams, r.fetched_at,
        NULL::VARCHAR AS audio_path, NULL::VARCHAR AS audio_size, NULL::VARCHAR AS audio_mtime_ns,
        list_transform(r.artists, lambda a: struct_pack(id := a.id, name := a.name,
            followers := a.followers.total, popularity := a.popularity, genres := a.genres))
            AS artists,
        r.album.images AS images
    FROM p
    """


def stage_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, source_no: int, chunk_rows: int, on_rows=None
) -> tuple[int, int]:
    """Stage every line of a JSONL dump; return (ok, rejected)."""
    ok = bad = 0
    for block in prefetch(line_blocks(path, chunk_rows)):
        con.register("_jsonl_block", block)
        try:
            o, b = stage_chunk(con, raw_sql("_jsonl_block", str(path), source_no))
        finally:
            con.unregister("_jsonl_block")
        ok += o
        bad += b
        if on_rows is not None:
            on_rows(block.num_rows)
    return ok, bad
