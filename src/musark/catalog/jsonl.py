"""JSONL dumps (plain, .zst, .gz): one API-style track object per line, read in bounded blocks.

The file is decompressed as a stream and cut into blocks at line ends; each block becomes an Arrow
array of lines (split in C++, never a Python loop per line) that DuckDB parses with
``json_transform`` in parallel. Line numbers are kept so every reject names its line.
"""

from __future__ import annotations

import gzip
import json
import mmap
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import zstandard

from musark.catalog.validate import ORD_SHIFT, RAW_MAX, stage_chunk, stage_rejected, stage_sql
from musark.run.executors import default_workers

BLOCK_BYTES = 64 * 1024 * 1024
LINE_SCAN_BYTES = 16 * 1024 * 1024  # blocks in which rejected lines are numbered
REJECTED_BATCH = 1 << 20  # rejected line ordinals held in memory at most, while lines are numbered
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


def split_lines(buf: bytes | memoryview, ends: np.ndarray | None = None) -> pa.LargeBinaryArray:
    """Zero-copy Arrow array of the lines in ``buf``, each keeping its newline (found by numpy
    unless their positions ``ends`` are given)."""
    if ends is None:
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


def _record_columns(r: str) -> str:
    """SQL select list turning a parsed track object (fields prefixed by ``r``) into the raw
    record columns of validate.py."""
    return f"""{r}id, {r}name, {r}album.id AS album_id, {r}album.name AS album_name,
        {r}album.album_type, {r}album.label,
        list_filter({r}album.copyrights, lambda c: upper(c.type) = 'C')[1].text AS copyright_c,
        list_filter({r}album.copyrights, lambda c: upper(c.type) = 'P')[1].text AS copyright_p,
        {r}album.external_ids.upc AS upc, {r}album.release_date, {r}album.release_date_precision,
        {r}album.total_tracks, {r}album.popularity AS album_popularity,
        {r}track_number, {r}disc_number, {r}duration_ms, {r}explicit,
        {r}external_ids.isrc AS isrc, {r}popularity, {r}streams, {r}fetched_at,
        NULL::VARCHAR AS audio_path, NULL::VARCHAR AS audio_size, NULL::VARCHAR AS audio_mtime_ns,
        list_transform({r}artists, lambda a: struct_pack(id := a.id, name := a.name,
            followers := a.followers.total, popularity := a.popularity, genres := a.genres))
            AS artists,
        {r}album.images AS images"""


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
        {source_no}::BIGINT * {ORD_SHIFT} + line AS ord,
        '{src}' AS source, line::VARCHAR AS locator, rawtext AS raw,
        coalesce(pre_reason, CASE WHEN r IS NULL THEN 'invalid_json' END) AS pre_reason,
        {_record_columns("r.")}
    FROM p
    """


def _sql_type(spec: object) -> str:
    """DuckDB type of a ``_STRUCTURE`` entry."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return _sql_type(spec[0]) + "[]"
    assert isinstance(spec, dict)
    return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in spec.items()) + ")"


def _compression(path: Path) -> str:
    name = path.name.lower()
    return "zstd" if name.endswith(".zst") else "gzip" if name.endswith(".gz") else "none"


def read_json_sql(path: Path, source_no: int) -> str:
    """SQL reading the whole dump with DuckDB's parallel JSON reader into raw records.

    Lines DuckDB cannot parse (malformed JSON, invalid UTF-8, not an object) come out as
    all-NULL rows, blank lines as no row at all; ``ord`` is left NULL and numbered afterwards
    from the insertion order (see ``stage_jsonl``)."""
    columns = "{" + ", ".join(f"'{k}': '{_sql_type(v)}'" for k, v in _STRUCTURE.items()) + "}"
    file = str(path).replace("'", "''")
    return f"""
    SELECT
        NULL::BIGINT AS ord, '{file}' AS source, NULL::VARCHAR AS locator, NULL::VARCHAR AS raw,
        NULL::VARCHAR AS pre_reason,
        {_record_columns("")}
    FROM read_json('{file}', format = 'newline_delimited', ignore_errors = true,
                   compression = '{_compression(path)}', columns = {columns})
    """


_WS = np.zeros(256, dtype=np.uint8)
_WS[[ord(" "), ord("\t"), ord("\r")]] = 1


def _blank(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which lines [starts, ends) of byte array ``a`` hold only JSON whitespace (DuckDB's
    reader yields no row for them)."""
    empty = starts == ends
    first_ws = np.zeros(len(starts), dtype=bool)
    nonempty = ~empty
    first_ws[nonempty] = _WS[a[starts[nonempty]]] == 1
    if not first_ws.any():  # the usual case: every line starts with '{' or is empty
        return empty
    # exact, vectorised: count the non-whitespace bytes of each line
    nonws = np.concatenate([(1 - _WS[a]).astype(np.int64).cumsum(), [0]])
    before = np.where(starts > 0, nonws[starts - 1], 0)
    last = np.where(ends > 0, nonws[np.maximum(ends - 1, 0)], 0)
    return empty | (first_ws & (last - before == 0))


def _reject_lines(con: duckdb.DuckDBPyConnection, path: Path, base: int) -> int:
    """One pass over the dump: count its non-blank lines and copy (ord, line, raw) of the
    rejected ones (ordinals read from ``_jsonl_bad``) into ``_jsonl_found``; numpy finds the
    lines, so the pass costs about one read of the file."""
    con.execute("CREATE OR REPLACE TEMP TABLE _jsonl_found (ord BIGINT, line BIGINT, raw BLOB)")
    ordinal = 0  # non-blank lines so far
    first_line = 1
    rejected = _ordinals_upto(con)
    blocks = _line_ends_mapped if _compression(path) == "none" else _line_ends_streamed
    for view, a, nl in blocks(path, LINE_SCAN_BYTES):
        lines = split_lines(view, nl)
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[: len(lines) + 1]
        ordinal = _reject_block(con, a, lines, offsets, ordinal, first_line, base, rejected)
        first_line += len(lines)
    return ordinal


LineBlock = tuple[memoryview, np.ndarray, np.ndarray]


def _ordinals_upto(con: duckdb.DuckDBPyConnection) -> Callable[[int], np.ndarray]:
    """A function giving, call after call, the next rejected ordinals of ``_jsonl_bad`` up to
    its argument: read in sorted batches of at most REJECTED_BATCH, so memory stays bounded however
    many lines are rejected, and a dump with few rejects costs one query, not one per block."""
    pending = np.empty(0, dtype=np.int64)
    last, exhausted, batch = 0, False, REJECTED_BATCH

    def upto(hi: int) -> np.ndarray:
        nonlocal pending, last, exhausted
        while not exhausted and (not len(pending) or pending[-1] <= hi):
            more = con.execute(
                f"SELECT o FROM _jsonl_bad WHERE o > {last} ORDER BY o LIMIT {batch}"
            ).fetchnumpy()["o"]
            exhausted = len(more) < batch
            if len(more):
                last = int(more[-1])
                pending = np.concatenate([pending, more.astype(np.int64)])
        n = int(np.searchsorted(pending, hi, side="right"))
        out, pending = pending[:n], pending[n:]
        return out

    return upto


def _line_ends_mapped(path: Path, block_bytes: int) -> Iterator[LineBlock]:
    """Blocks of whole lines of an uncompressed file: (bytes, the same as a numpy array, their
    newline positions). The file is memory-mapped (no copy into a buffer) and its newlines are
    found by a thread per core, a block or two ahead (numpy releases the GIL): 2x faster than
    one thread reading into a buffer. Pages of blocks already handed out leave the process (the
    page cache keeps them), so its resident memory stays a few blocks, not the file."""
    if path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    whole = np.frombuffer(mapped, dtype=np.uint8)
    view = memoryview(mapped)  # the mapping stays open as long as a block's view is used

    def newlines(start: int) -> np.ndarray:
        return np.flatnonzero(whole[start : start + block_bytes] == 10) + start

    released = 0

    def release(upto: int) -> None:
        nonlocal released
        upto -= upto % mmap.PAGESIZE
        if upto > released:
            mapped.madvise(mmap.MADV_DONTNEED, released, upto - released)
            released = upto

    workers = default_workers()
    done = 0  # bytes handed out
    starts = iter(range(0, len(whole), block_bytes))
    with ThreadPoolExecutor(workers, thread_name_prefix="jsonl-lines") as pool:
        ahead = deque(pool.submit(newlines, start) for start in islice(starts, workers + 1))
        while ahead:
            nl = ahead.popleft().result()
            nxt = next(starts, None)
            if nxt is not None:
                ahead.append(pool.submit(newlines, nxt))
            if len(nl):  # a block without a newline joins the next one
                end = int(nl[-1]) + 1
                yield view[done:end], whole[done:end], nl - done
                done = end
                release(done)
    if done < len(whole):  # the last line has no newline
        yield view[done:], whole[done:], np.empty(0, dtype=np.int64)
    release(len(whole))


def _line_ends_streamed(path: Path, block_bytes: int) -> Iterator[LineBlock]:
    """Blocks of whole lines of a (compressed) stream, read into one reused buffer: each block
    is valid until the next is asked for."""
    buf = bytearray(block_bytes)
    view = memoryview(buf)
    filled = 0
    with open_stream(path) as fh:
        while True:
            if filled == len(buf):  # a line longer than the buffer: a bigger one
                bigger = bytearray(2 * len(buf))
                bigger[:filled] = buf[:filled]
                buf, view = bigger, memoryview(bigger)
            got = fh.readinto(view[filled:])
            eof = not got
            filled += got or 0
            a = np.frombuffer(buf, dtype=np.uint8, count=filled)
            nl = np.flatnonzero(a == 10)
            if eof:
                used = filled
            elif len(nl):
                used = int(nl[-1]) + 1
            else:
                continue
            if used:
                yield view[:used], a[:used], nl
            if eof:
                return
            rest = filled - used
            buf[:rest] = buf[used:filled]
            filled = rest


def _reject_block(
    con: duckdb.DuckDBPyConnection,
    a: np.ndarray,
    lines: pa.LargeBinaryArray,
    offsets: np.ndarray,
    ordinal: int,
    first_line: int,
    base: int,
    rejected: Callable[[int], np.ndarray],
) -> int:
    """Find the rejected lines of one block of whole lines; return the running ordinal."""
    starts = offsets[:-1]
    ends = offsets[1:] - (a[offsets[1:] - 1] == 10)  # without the newline
    keep = ~_blank(a, starts, ends)
    hi = ordinal + int(keep.sum())
    bad = rejected(hi)
    idx = np.flatnonzero(keep)[bad - ordinal - 1]
    # whitespace-only lines (other than a bare CR) are no record for DuckDB but were never
    # blank to us: they stay invalid_json rejects (ord NULL)
    ws = np.flatnonzero(~keep & (ends - starts > (a[starts] == 13)))
    if len(idx) or len(ws):
        both = np.concatenate([idx, ws])
        found = pa.table(
            {
                "ord": pa.array(
                    np.concatenate([bad + base, np.zeros(len(ws), np.int64)]),
                    mask=np.arange(len(both)) >= len(idx),
                ),
                "line": pa.array(both + first_line, pa.int64()),
                "raw": lines.take(pa.array(both)),
            }
        )
        con.register("_jsonl_block_found", found)
        try:
            con.execute("INSERT INTO _jsonl_found SELECT * FROM _jsonl_block_found")
        finally:
            con.unregister("_jsonl_block_found")
    return hi


def _bytes_read() -> int | None:
    """Bytes this process has read so far (Linux /proc/self/io), or None elsewhere."""
    try:
        with open("/proc/self/io") as fh:
            for line in fh:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _progress_while(con: duckdb.DuckDBPyConnection, sql: str, path: Path, on_rows) -> int:
    """Run ``sql`` while a watcher thread reports an estimate of the lines read so far to
    ``on_rows``: the share of the file DuckDB has read (bytes read by this process, else DuckDB's
    own coarser query progress) times the line count the first lines' length suggests. Return
    the lines reported."""
    if on_rows is None:
        con.execute(sql)
        return 0
    with open_stream(path) as fh:
        head = fh.read(1 << 20)
    size = max(1, path.stat().st_size)
    per_line = max(1, len(head) // max(1, head.count(b"\n")))
    est = size // per_line
    if _compression(path) != "none":
        est *= 8  # a typical compression ratio of JSON text; only a progress estimate
    stop = threading.Event()
    shown = 0

    def poll() -> None:
        nonlocal shown
        while not stop.wait(0.25):
            done = con.query_progress() / 100
            now_read = _bytes_read()
            if start is not None and now_read is not None:
                done = max(done, (now_read - start) / size)
            now = int(est * min(done, 0.99))
            if now > shown:
                on_rows(now - shown)
                shown = now

    start = _bytes_read()
    # the query runs on this thread (so Ctrl-C interrupts it as usual); a watcher reports
    t = threading.Thread(target=poll, name="jsonl-progress", daemon=True)
    t.start()
    try:
        con.execute(sql)
    except BaseException:
        stop.set()
        t.join()
        on_rows(-shown)
        raise
    stop.set()
    t.join()
    return shown


def stage_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, source_no: int, chunk_rows: int, on_rows=None
) -> tuple[int, int]:
    """Stage every line of a JSONL dump; return (ok, rejected).

    DuckDB's parallel reader parses the whole file in one INSERT that keeps the file's order, so
    each staged row's insertion rank is its non-blank-line ordinal. One numpy pass over the file
    then maps the few rejected ordinals to line numbers and raw text and re-labels lines DuckDB
    could not parse (invalid_utf8 / invalid_json). Should the file's non-blank lines not match the
    rows DuckDB produced, the source is staged again by the careful block reader instead.
    """
    base = source_no * ORD_SHIFT
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    # order-preserving insert: rowids follow the file (parallel, by DuckDB's batch indexes)
    con.execute("SET preserve_insertion_order = true")
    try:
        bad_before = stage_rejected(con)
        shown = _progress_while(con, stage_sql(read_json_sql(path, source_no)), path, on_rows)
    except duckdb.Error:
        _drop_unnumbered(con)
        return _stage_blocks(con, path, source_no, chunk_rows, on_rows)
    finally:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
    (rows, lo, hi) = con.execute(
        "SELECT count(*), min(rowid), max(rowid) FROM stage_rows WHERE ord IS NULL"
    ).fetchall()[0]
    if rows == 0 or hi - lo + 1 == rows:
        if rows:
            con.execute(f"UPDATE stage_rows SET ord = {base} + rowid - {lo} + 1 WHERE ord IS NULL")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _jsonl_bad AS
            SELECT ord - {base} AS o FROM stage_rows
            WHERE ord > {base} AND ord < {base + ORD_SHIFT} AND reason IS NOT NULL ORDER BY o""")
        lines = _reject_lines(con, path, base)
        con.execute("DROP TABLE _jsonl_bad")
        if lines == rows:
            extra = _label_rejects(con, str(path))
            bad = stage_rejected(con) - bad_before
            if on_rows is not None:
                on_rows(rows - shown)  # the exact count
            return rows - bad, bad + extra
        con.execute(f"DELETE FROM stage_rows WHERE ord > {base} AND ord < {base + ORD_SHIFT}")
    else:
        _drop_unnumbered(con)
    if on_rows is not None:
        on_rows(-shown)
    return _stage_blocks(con, path, source_no, chunk_rows, on_rows)


def _drop_unnumbered(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM stage_rows WHERE ord IS NULL")


def _label_rejects(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Give rejected JSONL rows their line number and raw text; lines DuckDB could not parse
    become invalid_utf8 / invalid_json (their row came out all NULL). Lines without a row
    (``ord`` NULL: whitespace only) go to the stage's rejects; return how many."""
    src = source.replace("'", "''")
    try:
        (extra,) = con.execute(f"""
            INSERT INTO stage_rejects
            SELECT '{src}', line::VARCHAR, 'invalid_json',
                left(rtrim(decode(raw, 'replace'), chr(10) || chr(13)), {RAW_MAX})
            FROM _jsonl_found WHERE ord IS NULL""").fetchall()[0]
        con.execute(f"""
            UPDATE stage_rows s SET
                locator = f.line::VARCHAR,
                reason = CASE WHEN f.txt IS NULL THEN 'invalid_utf8'
                    WHEN NOT CASE WHEN json_valid(f.txt) THEN json_type(f.txt) = 'OBJECT' ELSE false END
                        THEN 'invalid_json'
                    ELSE s.reason END,
                raw = left(rtrim(coalesce(f.txt, decode(f.raw, 'replace')), chr(10) || chr(13)),
                           {RAW_MAX})
            FROM (SELECT ord, line, raw, try(decode(raw)) AS txt FROM _jsonl_found) f
            WHERE s.ord = f.ord""")
    finally:
        con.execute("DROP TABLE _jsonl_found")
    return int(extra)


def _stage_blocks(
    con: duckdb.DuckDBPyConnection, path: Path, source_no: int, chunk_rows: int, on_rows=None
) -> tuple[int, int]:
    """The careful reader: Python cuts the file into line blocks, DuckDB parses each block."""
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
