"""Single-pass hashing: one sequential read per file feeds v1 piece SHA-1s (pieces span files),
v2 per-file merkle trees and the file SHA-256, with one thread per core over the files."""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha1, sha256

from musark.pack.layout import BLOCK, Entry, Layout
from musark.pack.merkle import file_tree

# Every consumer hashes a chunk before the next is touched, so the SHA-1, SHA-256 and
# 16 KiB-leaf passes over it read the CPU cache rather than memory; a multiple of BLOCK.
CHUNK = 1 << 20
PROGRESS = 8 << 20  # bytes between progress callbacks


@dataclass
class Digests:
    """Everything a torrent and a BagIt manifest need, from one pass over the bytes."""

    pieces: bytes | None = None  # v1: concatenated SHA-1 of every piece
    roots: dict[str, bytes] = field(default_factory=dict)  # v2: pieces root per path
    layers: dict[str, bytes] = field(default_factory=dict)  # v2: piece layer per path
    sha256: dict[str, str] = field(default_factory=dict)  # hex SHA-256 of files asked for


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class _Pieces:
    """v1 piece digests; pieces that cross file boundaries are stitched from fragments."""

    def __init__(self, total: int, piece_size: int) -> None:
        self.total, self.size = total, piece_size
        self.digests: list[bytes | None] = [None] * (-(-total // piece_size))
        self._frags: dict[int, tuple[int, list[tuple[int, memoryview]]]] = {}
        self._lock = threading.Lock()

    def fragment(self, k: int, start: int, data: memoryview) -> None:
        want = min(self.size, self.total - k * self.size)
        with self._lock:
            got, parts = self._frags.get(k, (0, []))
            parts.append((start, data))
            got += len(data)
            if got < want:
                self._frags[k] = (got, parts)
                return
            self._frags.pop(k, None)
        h = sha1()
        for _, d in sorted(parts, key=lambda p: p[0]):
            h.update(d)
        self.digests[k] = h.digest()

    def joined(self) -> bytes:
        missing = [k for k, d in enumerate(self.digests) if d is None]
        if missing:
            raise RuntimeError(f"internal error: {len(missing)} pieces never completed")
        return b"".join(self.digests)  # type: ignore[arg-type]


class _Run:
    def __init__(
        self,
        layout: Layout,
        sha256_paths: set[str],
        advance: Callable[[int], None] | None,
    ) -> None:
        self.layout = layout
        self.want_v1 = layout.fmt != "v2"
        self.want_v2 = layout.fmt != "v1"
        self.sha256_paths = sha256_paths
        self.advance = advance
        p = layout.piece_size
        # pads are hashed from one shared buffer of zeros (a pad is shorter than a piece)
        self.zeros = memoryview(bytes(p)) if any(e.pad for e in layout.entries) else None
        self.pieces = _Pieces(layout.total, p) if self.want_v1 else None
        self.out = Digests()
        self._lock = threading.Lock()

    def entry(self, i: int, view: memoryview) -> None:
        """Feed every digest from ``view``, the whole content of entry ``i``, chunk by chunk:
        each chunk is hashed by every consumer while it is still in the CPU cache."""
        e: Entry = self.layout.entries[i]
        off, n, p = self.layout.offsets[i], e.size, self.layout.piece_size
        h256 = sha256() if e.path in self.sha256_paths else None
        v2 = self.want_v2 and not e.pad
        leaves: list[bytes] = []
        pieces = self.pieces
        # v1: [0, head) ends a piece begun in an earlier file and [body, n) begins one that ends
        # in a later file; both are kept as zero-copy fragments until their piece is complete.
        # The pieces in between are hashed here, incrementally.
        head = body = 0
        if pieces is not None:
            head = min(n, -off % p)
            body = n if off + n == self.layout.total else head + (n - head) // p * p
            if head:
                pieces.fragment(off // p, off, view[:head])
        k = (off + head) // p
        ph = sha1()
        done = 0
        for c in range(0, n, CHUNK):
            mv = view[c : c + CHUNK]
            m = len(mv)
            if h256 is not None:
                h256.update(mv)
            if v2:
                leaves += [sha256(mv[j : j + BLOCK]).digest() for j in range(0, m, BLOCK)]
            a, b = max(c, head), min(c + m, body)
            while a < b:
                t = min(b, head + ((a - head) // p + 1) * p)  # the next piece boundary
                ph.update(mv[a - c : t - c])
                if t == body or (t - head) % p == 0:
                    pieces.digests[k] = ph.digest()  # type: ignore[union-attr]
                    k, ph = k + 1, sha1()
                a = t
            done += m
            if self.advance is not None and not e.pad and (done >= PROGRESS or c + m == n):
                self.advance(done)
                done = 0
        if pieces is not None and body < n:
            pieces.fragment((off + body) // p, off + body, view[body:])
        tree = file_tree(leaves, p) if v2 and n else None  # outside the lock: ~1 ms per 64 MiB
        with self._lock:
            if h256 is not None:
                self.out.sha256[e.path] = h256.hexdigest()
            if tree is not None:
                self.out.roots[e.path] = tree[0]
                if tree[1] is not None:
                    self.out.layers[e.path] = tree[1]

    def disk_entries(self, indices: list[int]) -> None:
        """Hash a run of files in order (one task of the thread pool)."""
        for i in indices:
            self.disk_entry(i)

    def disk_entry(self, i: int) -> None:
        """Hash file ``i`` from a read-only mapping of it (no copy), then its pad if any."""
        e = self.layout.entries[i]
        with open(e.source, "rb", buffering=0) as fh:  # type: ignore[arg-type]
            size = os.fstat(fh.fileno()).st_size
            if size != e.size:
                raise ValueError(f"{e.source}: file is {size} bytes, expected {e.size}")
            if size:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                with contextlib.suppress(AttributeError, OSError):
                    mm.madvise(mmap.MADV_SEQUENTIAL)
                self.entry(i, memoryview(mm))
            else:
                self.entry(i, memoryview(b""))
        nxt = i + 1
        if nxt < len(self.layout.entries) and self.layout.entries[nxt].pad:
            self.entry(nxt, self.zeros[: self.layout.entries[nxt].size])  # type: ignore[index]


def _groups(layout: Layout, disk: list[int], workers: int) -> list[list[int]]:
    """Runs of consecutive files, largest first. Each run takes 1/16 per worker of the bytes
    not yet grouped (at most 64 MiB, few tasks for 60,000 small files), so runs shrink to
    single files at the end of the batch and no core idles while another finishes a long task;
    a file bigger than its share is a run of its own and, being large, is hashed early."""
    groups: list[tuple[int, list[int]]] = []
    remaining = sum(layout.entries[i].size for i in disk)
    current: list[int] = []
    acc = 0
    for i in disk:
        current.append(i)
        acc += layout.entries[i].size
        if acc >= min(remaining // (workers * 16), 64 << 20):
            groups.append((acc, current))
            remaining -= acc
            current, acc = [], 0
    if current:
        groups.append((acc, current))
    groups.sort(key=lambda g: -g[0])  # stable: equal runs keep path order
    return [g for _, g in groups]


def hash_layout(
    layout: Layout,
    *,
    contents: Mapping[str, bytes] | None = None,
    late: Callable[[dict[str, str]], Mapping[str, bytes]] | None = None,
    sha256_paths: set[str] | None = None,
    workers: int | None = None,
    advance: Callable[[int], None] | None = None,
) -> Digests:
    """Hash every file of ``layout`` once; in-memory files come from ``contents`` or, once the
    disk files' SHA-256s are known, from ``late(sha256s)`` (e.g. a BagIt manifest)."""
    run = _Run(layout, set(sha256_paths or ()), advance)
    contents = dict(contents or {})
    disk = [i for i, e in enumerate(layout.entries) if e.source is not None]
    workers = workers or usable_cores()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run.disk_entries, g) for g in _groups(layout, disk, workers)]
        try:
            for f in futures:
                f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    # pads are hashed by the thread of the file they follow
    after_disk = {i + 1 for i in disk if i + 1 < len(layout.entries) and layout.entries[i + 1].pad}
    pending = [i for i, e in enumerate(layout.entries) if e.source is None and i not in after_disk]
    if late is not None and any(
        layout.entries[i].path not in contents for i in pending if not layout.entries[i].pad
    ):
        contents.update(late(dict(run.out.sha256)))
    for i in pending:
        e = layout.entries[i]
        data = run.zeros[: e.size] if e.pad else contents.get(e.path)  # type: ignore[index]
        if data is None or len(data) != e.size:
            raise ValueError(f"{e.path}: in-memory content missing or not {e.size} bytes")
        run.entry(i, memoryview(data))
    if run.pieces is not None:
        run.out.pieces = run.pieces.joined()
    return run.out
