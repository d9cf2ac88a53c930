"""Serving benchmark: supysonic and musark on the same folder of generated, tagged audio files.

One run measures both servers on 127.0.0.1 with the same requests:

- time from an empty database to the first search3 answer with results (supysonic: its own
  scanner on the folder; musark: the real pipeline, see MUSARK_PIPELINE),
- search3 latency p50/p99 over the same queries,
- getAlbum latency p99,
- stream throughput (MB/s, untranscoded, format=raw).

supysonic speaks API 1.12, so it gets legacy ``p=`` auth; musark gets token auth (``t``/``s``),
which costs the server more work per request (decrypting the stored password, one MD5).

Usage:  python bench/serve.py [--tracks 20000] [--queries 500] [--out bench/out]
The last line printed is one JSON object; each ``*_ratio`` is musark's speed over supysonic's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from musark.media.synth import write_audio  # noqa: E402

USER, PASSWORD = "bench", "bench-password"
TRACKS_PER_ALBUM = 10
ALBUMS_PER_ARTIST = 4
BASE_VARIANTS = 16
REQUEST_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 3600.0

# The musark side: the shortest honest path through the real pipeline from a tagged folder
# to a served library. Each entry is the argument list of one `musark` command.
MUSARK_PIPELINE: list[tuple[str, list[str]]] = [
    ("init", ["init"]),
    ("ingest", ["ingest", "{library}"]),
    ("plan", ["plan"]),
    ("process", ["process"]),
    ("release", ["release"]),
    ("index", ["index"]),
    ("user", ["user", "add", USER, "--password", PASSWORD]),
]


# ---------------------------------------------------------------- the library


def _words(n: int, seed: int) -> list[str]:
    """Pronounceable made-up words, so every query has a well-defined set of matches."""
    rng = random.Random(seed)
    onsets = [
        "b",
        "d",
        "f",
        "g",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "tr",
        "st",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "é"]
    codas = ["", "", "n", "r", "s", "l", "m", "th"]
    out: set[str] = set()
    while len(out) < n:
        syll = rng.randint(2, 3)
        out.add(
            "".join(
                rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syll)
            )
        )
    return sorted(out)


def library_plan(tracks: int) -> list[dict]:
    """Deterministic artist/album/track names and tags for ``tracks`` tracks."""
    rng = random.Random(7)
    words = _words(max(400, tracks // 10), seed=11)
    genres = ["Ambient", "Folk", "Jazz", "Electronic", "Classical", "Rock", "Soul", "Dub"]
    rows = []
    n_albums = (tracks + TRACKS_PER_ALBUM - 1) // TRACKS_PER_ALBUM
    for a in range(n_albums):
        artist_no = a // ALBUMS_PER_ARTIST
        artist = " ".join(w.capitalize() for w in random.Random(artist_no).sample(words, 2))
        album = " ".join(w.capitalize() for w in rng.sample(words, rng.randint(1, 3)))
        year = 1960 + (a * 7) % 64
        genre = genres[a % len(genres)]
        for t in range(TRACKS_PER_ALBUM):
            i = a * TRACKS_PER_ALBUM + t
            if i >= tracks:
                break
            title = " ".join(rng.sample(words, rng.randint(2, 4))).capitalize()
            rows.append(
                {
                    "i": i,
                    "artist": artist,
                    "album": f"{album} {a}",
                    "title": title,
                    "track": t + 1,
                    "year": year,
                    "genre": genre,
                    "isrc": f"ZZBEN{i:07d}",
                    "rel": f"{artist}/{album} {a}/{t + 1:02d} {title}.mp3",
                }
            )
    return rows


def _tag_one(args: tuple[dict, str, str]) -> int:
    from mutagen.mp3 import EasyMP3

    row, base, root = args
    dest = Path(root) / row["rel"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(base, tmp)
    f = EasyMP3(tmp)
    if f.tags is None:
        f.add_tags()
    f["title"] = row["title"]
    f["artist"] = row["artist"]
    f["albumartist"] = row["artist"]
    f["album"] = row["album"]
    f["tracknumber"] = str(row["track"])
    f["discnumber"] = "1"
    f["date"] = str(row["year"])
    f["genre"] = row["genre"]
    f["isrc"] = row["isrc"]
    f.save()
    os.replace(tmp, dest)
    return dest.stat().st_size


def make_library(out: Path, tracks: int, seconds: float) -> tuple[Path, list[dict]]:
    """Generate (once, cached under ``out``) a folder of tagged MP3 files (kept as is by musark)."""
    root = out / f"library-{tracks}-{seconds:g}s"
    rows = library_plan(tracks)
    stamp = root / ".complete"
    if stamp.exists():
        return root, rows
    bases = out / "bases"
    bases.mkdir(parents=True, exist_ok=True)
    base_files = []
    for v in range(BASE_VARIANTS):
        p = bases / f"base-{v}-{seconds:g}s.mp3"
        if not p.exists():
            write_audio(p, seconds, kbps=96, seed=v)
        base_files.append(str(p))
    print(f"generating {tracks} tagged files under {root} ...", flush=True)
    t0 = time.perf_counter()
    jobs = [(r, base_files[r["i"] % BASE_VARIANTS], str(root)) for r in rows]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        total = sum(pool.map(_tag_one, jobs, chunksize=256))
    stamp.write_text(json.dumps({"tracks": tracks, "bytes": total}))
    print(f"  {tracks} files, {total / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s", flush=True)
    return root, rows


# ---------------------------------------------------------------- servers and requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A Subsonic client with fixed auth parameters and bounded, timed requests."""

    def __init__(self, base: str, auth: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S)
        self.auth = {"c": "bench", "f": "json", **auth}

    def get(self, method: str, **params) -> dict:
        r = self.http.get(f"/rest/{method}.view", params={**self.auth, **params})
        r.raise_for_status()
        body = r.json()["subsonic-response"]
        if body["status"] != "ok":
            raise RuntimeError(f"{method}: {body.get('error')}")
        return body

    def timed(self, method: str, **params) -> tuple[float, dict]:
        t0 = time.perf_counter()
        body = self.get(method, **params)
        return time.perf_counter() - t0, body

    def stream_bytes(self, song_id: str) -> int:
        n = 0
        with self.http.stream(
            "GET", "/rest/stream.view", params={**self.auth, "id": song_id, "format": "raw"}
        ) as r:
            r.raise_for_status()
            if r.headers.get("content-type", "").startswith(("application/json", "text/xml")):
                raise RuntimeError(f"stream {song_id}: {r.read()[:200]!r}")
            for chunk in r.iter_bytes(1 << 16):
                n += len(chunk)
        return n


def wait_first_results(client: Client, query: str, proc: subprocess.Popen, t0: float) -> float:
    """Poll search3 until it returns songs; the seconds since ``t0``."""
    while time.perf_counter() - t0 < READY_TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            body = client.get("search3", query=query, songCount=10)
            if body.get("searchResult3", {}).get("song"):
                return time.perf_counter() - t0
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError("no search results before the timeout")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def measure(client: Client, queries: list[str], n_albums: int, n_streams: int) -> dict:
    """The same bounded request loops on either server."""
    for q in queries[:20]:  # warm-up: caches, lazy imports
        client.get("search3", query=q)
    lat, hits = [], []
    for q in queries:
        dt, body = client.timed("search3", query=q, artistCount=20, albumCount=20, songCount=20)
        res = body.get("searchResult3", {})
        lat.append(dt)
        hits.append(
            len(res.get("song", [])) + len(res.get("album", [])) + len(res.get("artist", []))
        )

    albums: list[str] = []
    offset = 0
    while len(albums) < n_albums * 4:
        page = client.get("getAlbumList2", type="alphabeticalByName", size=500, offset=offset)
        got = page.get("albumList2", {}).get("album", [])
        if not got:
            break
        albums += [a["id"] for a in got]
        offset += len(got)
    sample = random.Random(3).sample(albums, min(n_albums, len(albums)))
    album_lat, songs = [], []
    for aid in sample:
        dt, body = client.timed("getAlbum", id=aid)
        album_lat.append(dt)
        songs += [s["id"] for s in body["album"].get("song", [])]

    picks = random.Random(5).sample(songs, min(n_streams, len(songs)))
    t0 = time.perf_counter()
    total = sum(client.stream_bytes(s) for s in picks)
    stream_s = time.perf_counter() - t0
    return {
        "search3_p50_ms": statistics.median(lat) * 1e3,
        "search3_p99_ms": pct(lat, 99) * 1e3,
        "search3_mean_hits": statistics.mean(hits),
        "getalbum_p50_ms": statistics.median(album_lat) * 1e3,
        "getalbum_p99_ms": pct(album_lat, 99) * 1e3,
        "stream_mb_s": total / 1e6 / stream_s,
        "stream_files": len(picks),
        "stream_mb": total / 1e6,
    }


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_logged(cmd: list[str], log: Path, **kw) -> None:
    with log.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        r = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, **kw)
    if r.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:3])} … exited {r.returncode}; log {log}:\n{tail}")


# ---------------------------------------------------------------- supysonic


def supysonic_bin(name: str) -> str:
    exe = Path(sys.executable).parent / name
    if not exe.exists():
        raise SystemExit(
            f"{name} not found next to {sys.executable}: pip install -e '.[bench]' (supysonic, gunicorn)"
        )
    return str(exe)


def run_supysonic(work: Path, library: Path, query0: str, args) -> dict:
    """supysonic's own scanner on the folder, its own WSGI server (gunicorn, one worker)."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "cache").mkdir(parents=True)
    (work / "supysonic.conf").write_text(
        "[base]\n"
        f"database_uri = sqlite:///{work / 'supysonic.db'}\n"
        "[webapp]\n"
        f"cache_dir = {work / 'cache'}\n"
        "mount_webui = no\n"
        "log_level = WARNING\n"
        "[daemon]\n"
        f"socket = {work / 'daemon.sock'}\n"
        "run_watcher = no\n"
    )
    # supysonic reads ./supysonic.conf (and ~/.supysonic): pin both to the work folder.
    env = {**os.environ, "HOME": str(work)}
    log = work / "supysonic.log"
    cli_exe, server_exe = supysonic_bin("supysonic-cli"), supysonic_bin("supysonic-server")
    port = free_port()
    t0 = time.perf_counter()
    run_logged([cli_exe, "user", "add", USER, "-p", PASSWORD], log, cwd=work, env=env)
    run_logged([cli_exe, "folder", "add", "library", str(library)], log, cwd=work, env=env)
    run_logged([cli_exe, "folder", "scan", "--foreground", "library"], log, cwd=work, env=env)
    scanned = time.perf_counter() - t0
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            [server_exe, "-S", "gunicorn", "-h", "127.0.0.1", "-p", str(port), "--processes", "1"],
            cwd=work,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        client = Client(f"http://127.0.0.1:{port}", {"u": USER, "p": PASSWORD, "v": "1.12.0"})
        ready = wait_first_results(client, query0, proc, t0)
        print(f"supysonic: scanned in {scanned:.1f} s, first results at {ready:.1f} s", flush=True)
        return {"time_to_search_s": ready, "build_s": scanned, **measure(client, *args)}
    finally:
        stop(proc)


# ---------------------------------------------------------------- musark


def musark_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "musark", *args]


def run_musark(work: Path, library: Path, query0: str, args) -> dict:
    """musark's real pipeline from the tagged folder to `musark serve`, timed end to end."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    archive = work / "archive"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "MUSARK_ARCHIVE": str(archive)}
    log = work / "musark.log"
    port = free_port()
    steps = {}
    t0 = time.perf_counter()
    for name, argv in MUSARK_PIPELINE:
        t = time.perf_counter()
        cmd = [a.format(library=library) for a in argv]
        run_logged(musark_cmd(*cmd, "--archive", str(archive)), log, env=env)
        steps[f"{name}_s"] = time.perf_counter() - t
        print(f"musark {name}: {steps[f'{name}_s']:.1f} s", flush=True)
    built = time.perf_counter() - t0
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            musark_cmd(
                "serve", "--archive", str(archive), "--host", "127.0.0.1", "--port", str(port)
            ),
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        salt = "b3nch5a1t"
        token = hashlib.md5((PASSWORD + salt).encode()).hexdigest()
        client = Client(
            f"http://127.0.0.1:{port}", {"u": USER, "t": token, "s": salt, "v": "1.16.1"}
        )
        ready = wait_first_results(client, query0, proc, t0)
        print(f"musark: built in {built:.1f} s, first results at {ready:.1f} s", flush=True)
        return {"time_to_search_s": ready, "build_s": built, **steps, **measure(client, *args)}
    finally:
        stop(proc)


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=int(os.environ.get("BENCH_TRACKS", 20000)))
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--albums", type=int, default=300, help="getAlbum requests")
    ap.add_argument("--streams", type=int, default=300, help="files streamed")
    ap.add_argument("--seconds", type=float, default=6.0, help="length of each generated file")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    ap.add_argument("--only", choices=["supysonic", "musark"], help="run one side (debugging)")
    a = ap.parse_args()

    library, rows = make_library(a.out, a.tracks, a.seconds)
    words = sorted({w.lower() for r in rows for w in r["title"].split()})
    queries = random.Random(1).choices(words, k=a.queries)
    args = (queries, a.albums, a.streams)
    query0 = rows[0]["title"].split()[0].lower()

    results: dict[str, dict] = {}
    missing: dict[str, str] = {}
    for side, fn in (("supysonic", run_supysonic), ("musark", run_musark)):
        if a.only and a.only != side:
            continue
        try:
            results[side] = fn(a.out / f"{side}-run", library, query0, args)
        except RuntimeError as exc:
            missing[side] = str(exc)
            print(f"{side}: FAILED: {exc}", file=sys.stderr, flush=True)

    # (label, figure, ratio key, True when a higher figure is better)
    rows_out = [
        ("time to first search (s)", "time_to_search_s", "time_to_search_ratio", False),
        ("search3 p50 (ms)", "search3_p50_ms", "search3_p50_ratio", False),
        ("search3 p99 (ms)", "search3_p99_ms", "search3_p99_ratio", False),
        ("getAlbum p99 (ms)", "getalbum_p99_ms", "getalbum_p99_ratio", False),
        ("stream (MB/s)", "stream_mb_s", "stream_ratio", True),
    ]
    out: dict = {"tracks": a.tracks, "queries": a.queries}
    s, m = results.get("supysonic"), results.get("musark")
    print(f"\n{'':28}{'supysonic':>12}{'musark':>12}{'ratio':>9}")
    for label, key, ratio_key, higher_better in rows_out:
        sv = s[key] if s else float("nan")
        mv = m[key] if m else float("nan")
        ratio = (mv / sv if higher_better else sv / mv) if s and m else float("nan")
        print(f"{label:28}{sv:12.2f}{mv:12.2f}{ratio:9.2f}")
        if s and m:
            out[ratio_key] = round(ratio, 3)
    for side, res in results.items():
        for k, v in res.items():
            out[f"{side}_{k}"] = round(v, 3) if isinstance(v, float) else v
    if missing:
        out["failed"] = missing
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
