"""Benchmark: search3 over a synthetic published index (default 1,000,000 tracks) vs SQLite FTS5.

Builds an index of N tracks (--tracks or MUSARK_BENCH_TRACKS) with artists and albums whose
names come from a fixed vocabulary (some accented, some CJK), runs `musark index` (library
tables + tantivy), starts the server under uvicorn on 127.0.0.1 and times, in one run:

- the index build (`build_index`),
- search3 over HTTP for 500 queries (1–3 words, last one a prefix), p50/p99,
- the peer: the same queries against an SQLite FTS5 table (unicode61, diacritics removed,
  prefix on the last term, ranked by bm25) over the same names — the approach the best-known
  Subsonic server moved to,
- search3 with an empty query at offsets 0 and N-100 (the full-sync walk), p99 of each.

The last line is one JSON object; ratios (musark ÷ peer speed, > 1 = musark faster) end in `_ratio`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from musark.archive import Archive, init_archive
from musark.index.schema import create_schema
from musark.serve.app import create_app
from musark.serve.indexing import build_index
from musark.serve.users import UserStore

SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "ne",
    "sa",
    "to",
    "lu",
    "vi",
    "da",
    "en",
    "or",
    "an",
    "el",
    "is",
    "um",
    "ber",
    "gen",
    "sol",
    "mar",
    "tin",
    "lo",
    "fa",
    "ré",
    "né",
    "ça",
    "ö",
    "ü",
]
CJK = list("東京夜歌桜花雨風海空星月光心愛夢")


def _word(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return "".join(rng.choice(CJK) for _ in range(rng.randint(1, 3)))
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def build_synthetic(root: Path, n_tracks: int, seed: int = 7) -> tuple[Archive, list[str]]:
    """A mirror with only a published index of ``n_tracks`` (no audio); returns the vocabulary."""
    rng = random.Random(seed)
    arc = Archive(root)
    init_archive(arc)
    vocab = sorted({_word(rng) for _ in range(20000)})
    n_artists, n_albums = max(1, n_tracks // 20), max(1, n_tracks // 10)
    con = sqlite3.connect(arc.index_db)
    create_schema(con)

    def name(k: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(k))

    con.executemany(
        "INSERT INTO artists VALUES (?, ?, ?, ?)",
        (
            (f"ar{i}", name(rng.randint(1, 2)), rng.randint(0, 10**6), rng.randint(0, 100))
            for i in range(n_artists)
        ),
    )
    con.executemany(
        "INSERT INTO artist_genres VALUES (?, ?)",
        ((f"ar{i}", f"genre{i % 40}") for i in range(n_artists)),
    )
    con.executemany(
        "INSERT INTO albums(id, name, release_date, popularity) VALUES (?, ?, ?, ?)",
        (
            (
                f"al{i}",
                name(rng.randint(1, 3)),
                f"{rng.randint(1960, 2024)}-01-01",
                rng.randint(0, 100),
            )
            for i in range(n_albums)
        ),
    )
    con.executemany(
        "INSERT INTO tracks(id, name, album_id, track_number, disc_number, duration_ms, popularity) VALUES (?, ?, ?, ?, 1, 200000, ?)",
        (
            (f"t{i}", name(rng.randint(1, 4)), f"al{i // 10}", i % 10 + 1, rng.randint(0, 100))
            for i in range(n_tracks)
        ),
    )
    con.executemany(
        "INSERT INTO track_artists VALUES (?, ?, 0)",
        ((f"t{i}", f"ar{(i // 10) // 2}") for i in range(n_tracks)),
    )
    con.commit()
    con.close()
    return arc, vocab


def build_fts5(arc: Archive, path: Path) -> float:
    """The peer's index: one FTS5 row per track (title, artists, album); returns seconds."""
    start = time.perf_counter()
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("ATTACH DATABASE ? AS lib", (str(arc.search_dir / "library.sqlite3"),))
    con.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(id UNINDEXED, title, artist, album, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    con.execute("INSERT INTO fts SELECT id, title, artist, album FROM lib.song")
    con.commit()
    con.close()
    return time.perf_counter() - start


def queries(vocab: list[str], n: int, seed: int = 11) -> list[str]:
    """1–3 vocabulary words; the last one is cut short half the time (search as you type)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(vocab) for _ in range(rng.choice((1, 1, 2, 3)))]
        if rng.random() < 0.5 and len(words[-1]) > 3:
            words[-1] = words[-1][: rng.randint(2, len(words[-1]) - 1)]
        out.append(" ".join(words))
    return out


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile in milliseconds."""
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 3)


def fts5_times(path: Path, qs: list[str]) -> list[float]:
    """Per-query seconds for the FTS5 peer (top 20 songs by bm25)."""
    con = sqlite3.connect(path)
    times = []
    for q in qs:
        terms = [t.replace('"', "") for t in q.split()]
        match = " ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*'
        t0 = time.perf_counter()
        con.execute(
            "SELECT id FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20", (match.strip(),)
        ).fetchall()
        times.append(time.perf_counter() - t0)
    con.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--tracks", type=int, default=int(os.environ.get("MUSARK_BENCH_TRACKS", 1_000_000))
    )
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    tmp = Path(args.workdir or tempfile.mkdtemp(prefix="musark-bench-serve-"))
    t0 = time.perf_counter()
    if (tmp / "archive" / "release" / "index" / "musark_index.sqlite3").exists():
        # --workdir of an earlier run: same seed, same index; only the vocabulary is redrawn.
        rng = random.Random(7)
        arc, vocab = Archive(tmp / "archive"), sorted({_word(rng) for _ in range(20000)})
    else:
        arc, vocab = build_synthetic(tmp / "archive", args.tracks)
    print(
        f"synthetic index: {args.tracks} tracks in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    report = build_index(arc, force=True, show_progress=False)
    index_s = time.perf_counter() - t0
    print(f"musark index: {index_s:.1f} s {report}", file=sys.stderr)
    fts_s = build_fts5(arc, tmp / "fts5.sqlite3")
    print(f"fts5 index: {fts_s:.1f} s", file=sys.stderr)

    if UserStore(arc).get("bench") is None:
        UserStore(arc).add("bench", "bench")
    app = create_app(arc)
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    auth = {"u": "bench", "s": "ab", "t": hashlib.md5(b"benchab").hexdigest(), "f": "json"}
    qs = queries(vocab, args.queries)
    http_times, hits = [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for q in qs[:20]:  # warm-up
            client.get("/rest/search3", params={**auth, "query": q})
        for q in qs:
            t = time.perf_counter()
            r = client.get("/rest/search3", params={**auth, "query": q}).json()["subsonic-response"]
            http_times.append(time.perf_counter() - t)
            hits += len(r["searchResult3"].get("song", []))
        walk = {}
        for label, offset in (("first", 0), ("last", max(0, args.tracks - 100))):
            ts = []
            for _ in range(50):
                t = time.perf_counter()
                client.get(
                    "/rest/search3",
                    params={
                        **auth,
                        "query": "",
                        "artistCount": 0,
                        "albumCount": 0,
                        "songCount": 100,
                        "songOffset": offset,
                    },
                )
                ts.append(time.perf_counter() - t)
            walk[label] = pct(ts, 99)
    server.should_exit = True
    fts_times = fts5_times(tmp / "fts5.sqlite3", qs)
    result = {
        "tracks": args.tracks,
        "queries": len(qs),
        "songs_returned": hits,
        "musark_index_s": round(index_s, 2),
        "fts5_index_s": round(fts_s, 2),
        "musark_search3_http_p50_ms": pct(http_times, 50),
        "musark_search3_http_p99_ms": pct(http_times, 99),
        "fts5_p50_ms": pct(fts_times, 50),
        "fts5_p99_ms": pct(fts_times, 99),
        "empty_query_p99_ms_offset_0": walk["first"],
        "empty_query_p99_ms_offset_end": walk["last"],
        "search3_p99_vs_fts5_ratio": round(pct(fts_times, 99) / max(pct(http_times, 99), 1e-6), 3),
        "search3_p50_vs_fts5_ratio": round(pct(fts_times, 50) / max(pct(http_times, 50), 1e-6), 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
