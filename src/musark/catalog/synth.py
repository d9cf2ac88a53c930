"""Synthetic catalogue dumps: API-style JSONL with a realistic shape, generated in DuckDB in chunks.

Every value is a pure function of (seed, album number, track number) through DuckDB's ``hash``, so
a dump is byte-identical for a seed whatever the chunking, and any size streams to disk in bounded
memory: each chunk of albums is one vectorised query whose JSON lines go straight to the writer.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import zstandard

from musark.console import progress
from musark.fsio import atomic_writer

# Kinds of malformed rows, one per reason the validator catches (see docs/catalog.md).
BAD_KINDS = (
    "invalid_json",
    "invalid_utf8",
    "missing_field",
    "invalid_id",
    "invalid_isrc",
    "invalid_date",
    "invalid_duration",
    "invalid_popularity",
    "invalid_timestamp",
    "invalid_number",
)
_BAD_UTF8_MARK = b"~~BAD-UTF8~~"  # printable, so to_json leaves it alone

# Words mixing ASCII, accented Latin, CJK, Hangul, Cyrillic and Greek so names exercise Unicode.
_WORDS = [
    "Midnight", "Echo", "River", "Golden", "Static", "Velvet", "Neon", "Harbor", "Paper", "Wolves",
    "Summer", "Glass", "Ocean", "Silver", "Fever", "Northern", "Lights", "Garden", "Ghost", "Radio",
    "Café", "Mañana", "Niño", "Über", "Ærøskøbing", "Crème", "Déjà", "São", "Ñandú", "Zürich",
    "東京", "夜明け", "さくら", "星空", "愛", "北京", "사랑", "서울", "밤하늘", "Москва",
    "Любовь", "Αθήνα", "Όνειρο", "Heart", "Fire", "Dream", "Road", "Stone", "Blue", "Rain",
]  # fmt: skip
_COUNTRIES = ["US", "GB", "SE", "JP", "DE", "FR", "KR", "BR", "NL", "CA"]
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MEAN_ALBUM_TRACKS = 0.40 * 1 + 0.15 * 5 + 0.45 * 18


def _macros(con: duckdb.DuckDBPyConnection, seed: int, artists: int, labels: int) -> None:
    words = "[" + ",".join("'" + w.replace("'", "''") + "'" for w in _WORDS) + "]"
    countries = "[" + ",".join(f"'{c}'" for c in _COUNTRIES) + "]"
    nw = len(_WORDS)
    stmts = [
        # uniform [0,1) from a hash of the arguments and the seed
        f"CREATE MACRO u(a, b, c) AS (hash(a, b, c, {seed}::BIGINT) % 4294967296) / 4294967296.0",
        f"CREATE MACRO h(a, b, c) AS hash(a, b, c, {seed}::BIGINT)",
        # 22 characters like real catalogue ids (hex keeps generation cheap)
        "CREATE MACRO sid(a, b, c) AS printf('%016x%06x', h(a, b, c), h(c, b, a) % 16777216)",
        f"CREATE MACRO word(x) AS {words}[(x % {nw})::INT + 1]",
        "CREATE MACRO title(a, b, c) AS CASE WHEN u(a, b, c + 500) < 0.5 "
        "THEN word(h(a, b, c)) || ' ' || word(h(a, b, c + 1)) "
        "ELSE word(h(a, b, c)) || ' ' || word(h(a, b, c + 1)) || ' ' || word(h(a, b, c + 2)) END",
        "CREATE MACRO art_id(k) AS sid(k, -1, 12)",
        "CREATE MACRO art_name(k) AS word(h(k, -1, 13)) || ' ' || word(h(k, -1, 14))",
        f"CREATE MACRO art_idx(x) AS floor({artists} * x * x)::BIGINT",
        f"CREATE MACRO label_name(x) AS word(floor({labels} * x * x * x)::BIGINT) || ' ' "
        f"|| word(hash(floor({labels} * x * x * x)::BIGINT, {seed}::BIGINT)) || ' Records'",
        f"CREATE MACRO isrc_of(a, t) AS {countries}[(h(a, t, 20) % 10)::INT + 1] "
        f"|| array_to_string(list_transform(range(3), lambda k: substr('{_ALNUM}', "
        f"(h(a, k, 21) % 36)::INT + 1, 1)), '') "
        "|| lpad((h(a, 0, 22) % 100)::VARCHAR, 2, '0') || lpad((h(a, t, 23) % 100000)::VARCHAR, 5, '0')",
        # exponential tail: ~70 % at 0, ~0.1 % at >= 50
        "CREATE MACRO pop(x, y) AS CASE WHEN x < 0.70 THEN 0 "
        "ELSE least(100, 1 + floor(-8.6 * ln(1 - y)))::INT END",
    ]
    for s in stmts:
        con.execute(s)


def _chunk_sql(a0: int, a1: int, bad_rate: float) -> str:
    nkinds = len(BAD_KINDS)
    return f"""
    WITH al AS (
        SELECT a,
            CASE WHEN u(a, 0, 1) < 0.40 THEN 1
                 WHEN u(a, 0, 1) < 0.55 THEN 4 + floor(u(a, 0, 2) * 3)
                 ELSE 8 + floor(u(a, 0, 2) * 23) END::INT AS ntr,
            CASE WHEN u(a, 0, 1) < 0.40 THEN 'single'
                 WHEN u(a, 0, 3) < 0.08 THEN 'compilation' ELSE 'album' END AS album_type,
            sid(a, 0, 10) AS album_id,
            title(a, 0, 30) AS album_name,
            label_name(u(a, 0, 5)) AS label,
            art_idx(u(a, 0, 6)) AS primary_artist,
            1950 + floor(75 * sqrt(u(a, 0, 7)))::INT AS year,
            CASE WHEN u(a, 0, 8) < 0.80 THEN 'day' WHEN u(a, 0, 8) < 0.95 THEN 'year'
                 ELSE 'month' END AS prec,
            1 + (h(a, 0, 9) % 12)::INT AS month,
            1 + (h(a, 0, 11) % 28)::INT AS day,
            pop(u(a, 0, 12), u(a, 0, 13)) AS album_pop,
            u(a, 0, 14) < 0.05 AS deluxe
        FROM range({a0}, {a1}) r(a)
    ), tr AS (
        SELECT al.*, t,
            u(a, t, 99) < {bad_rate} AS bad,
            (h(a, t, 98) % {nkinds})::INT AS bad_kind,
            h(a, t, 97) % 2 = 0 AS bad_alt
        FROM al, unnest(range(ntr)) AS x(t)
    ), rec AS (
        SELECT a, t, bad, bad_kind, bad_alt, struct_pack(
            id := CASE WHEN bad AND bad_kind = 2 AND bad_alt THEN NULL
                       WHEN bad AND bad_kind = 3 THEN 'bad id/' || t
                       ELSE sid(a, t, 1) END,
            name := CASE WHEN bad AND bad_kind = 2 AND NOT bad_alt THEN NULL
                         WHEN bad AND bad_kind = 1 THEN title(a, t, 40) || '{_BAD_UTF8_MARK.decode()}'
                         ELSE title(a, t, 40) END,
            album := struct_pack(
                id := album_id,
                name := album_name,
                album_type := album_type,
                label := label,
                copyrights := [
                    struct_pack(text := '© ' || year || ' ' || label, type := 'C'),
                    struct_pack(text := '℗ ' || year || ' ' || label, type := 'P')],
                external_ids := struct_pack(upc := lpad((h(a, 0, 15) % 1000000000000)::VARCHAR, 12, '0')),
                release_date := CASE
                    WHEN bad AND bad_kind = 5 THEN year || '-13-45'
                    WHEN prec = 'day' THEN strftime(make_date(year, month, day), '%Y-%m-%d')
                    WHEN prec = 'month' THEN year || '-' || lpad(month::VARCHAR, 2, '0')
                    ELSE year::VARCHAR END,
                release_date_precision := CASE WHEN bad AND bad_kind = 5 THEN 'day' ELSE prec END,
                total_tracks := ntr,
                popularity := album_pop,
                images := list_transform([640, 300, 64], lambda s: struct_pack(
                    url := 'https://images.example.org/cover/' || album_id || '/' || s,
                    width := s, height := s))),
            artists := list_transform(
                [primary_artist] || CASE WHEN u(a, t, 50) < 0.15
                    THEN list_transform(range(1 + (h(a, t, 51) % 2)::INT),
                                        lambda k: art_idx(u(a, t, 52 + k)))
                    ELSE [] END,
                lambda k: struct_pack(id := art_id(k), name := art_name(k))),
            track_number := CASE WHEN bad AND bad_kind = 9 THEN -3 ELSE t + 1 END,
            disc_number := 1 + (t >= 20)::INT,
            duration_ms := CASE WHEN bad AND bad_kind = 6 THEN (CASE WHEN bad_alt THEN 0 ELSE -1 END)
                ELSE least(1200000, 30000 + floor(200000 * -ln(1 - u(a, t, 60))))::BIGINT END,
            explicit := u(a, t, 61) < 0.12,
            external_ids := struct_pack(isrc := CASE
                WHEN bad AND bad_kind = 4 THEN 'XX-12'
                WHEN album_type = 'compilation'
                    THEN isrc_of(greatest(0, a - 1 - (h(a, t, 24) % 5000))::BIGINT, 0)
                WHEN deluxe AND a > 0 THEN isrc_of(a - 1, t)
                WHEN u(a, t, 25) < 0.02 THEN lower(isrc_of(a, t))
                WHEN u(a, t, 25) < 0.04 THEN regexp_replace(isrc_of(a, t),
                    '^(..)(...)(..)(.....)$', '\\1-\\2-\\3-\\4')
                ELSE isrc_of(a, t) END),
            popularity := CASE WHEN bad AND bad_kind = 7 THEN (CASE WHEN bad_alt THEN 101 ELSE -1 END)
                ELSE pop(u(a, t, 62), u(a, t, 63)) END,
            streams := CASE WHEN u(a, t, 64) < 0.25 THEN floor(
                exp(pop(u(a, t, 62), u(a, t, 63)) / 7.0) * 1000 * (0.5 + u(a, t, 65)))::BIGINT END,
            fetched_at := CASE WHEN bad AND bad_kind = 8 THEN 'yesterday-ish'
                ELSE strftime(TIMESTAMP '2025-07-01' + to_seconds((h(a, t, 66) % 2592000)::BIGINT),
                              '%Y-%m-%dT%H:%M:%SZ') END
        ) AS r
        FROM tr
    )
    SELECT CASE WHEN bad AND bad_kind = 0 THEN substr(j, 1, length(j) // 2) ELSE j END
           || chr(10) AS line
    FROM (SELECT a, t, bad, bad_kind, to_json(r)::VARCHAR AS j FROM rec) ORDER BY a, t
    """


@contextmanager
def open_dump_writer(path: Path) -> Iterator[BinaryIO]:
    """Yield a binary stream that lands atomically at ``path``, compressed by its suffix."""
    with atomic_writer(path) as raw:
        if path.name.endswith(".zst"):
            cctx = zstandard.ZstdCompressor(level=3, threads=-1)
            with cctx.stream_writer(raw, closefd=False) as zw:
                yield zw
        elif path.name.endswith(".gz"):
            # mtime=0 keeps the output byte-identical between runs
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                yield gz
        else:
            yield raw


def _write_lines(fh: BinaryIO, batch: pa.RecordBatch, has_bad: bool) -> None:
    arr = batch.column(0).cast(pa.large_binary())
    if has_bad:
        arr = pc.replace_substring(arr, _BAD_UTF8_MARK, b"\xff\xfe")
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for c in chunks:
        if len(c) == 0:
            continue
        offsets = np.frombuffer(c.buffers()[1], dtype=np.int64)
        start, end = int(offsets[c.offset]), int(offsets[c.offset + len(c)])
        fh.write(memoryview(c.buffers()[2])[start:end])


def synth_catalog(
    out: Path | str,
    tracks: int,
    *,
    seed: int = 0,
    bad_rate: float = 0.0,
    chunk_albums: int = 20000,
    show_progress: bool = True,
) -> dict[str, object]:
    """Write a synthetic JSONL(.zst/.gz) dump of ``tracks`` lines; return a summary."""
    out = Path(out)
    if tracks < 0:
        raise ValueError("--tracks must be >= 0")
    if not 0.0 <= bad_rate <= 1.0:
        raise ValueError("--bad-rate must be between 0 and 1")
    artists = max(10, tracks // 6)
    labels = max(5, int(math.sqrt(tracks)))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    _macros(con, seed, artists, labels)
    # small dumps need fewer albums per query than the default chunk
    chunk_albums = max(1, min(chunk_albums, int(tracks / MEAN_ALBUM_TRACKS * 1.3) + 10))
    written = 0
    a0 = 0
    with open_dump_writer(out) as fh, progress() as bar:
        task = bar.add_task(f"synth {out.name}", total=tracks, visible=show_progress)
        while written < tracks:
            a1 = a0 + chunk_albums
            sql = _chunk_sql(a0, a1, bad_rate)
            remaining = tracks - written
            reader = con.sql(f"SELECT line FROM ({sql}) LIMIT {remaining}").to_arrow_reader(65536)
            for batch in reader:
                _write_lines(fh, batch, bad_rate > 0)
                written += batch.num_rows
                bar.update(task, completed=written)
            a0 = a1
    con.close()
    return {
        "path": str(out),
        "tracks": written,
        "seed": seed,
        "bad_rate": bad_rate,
        "artists_pool": artists,
    }
