"""Single-read hashing: one mapping of each file feeds v1 piece SHA-1s (pieces span files), v2
per-file merkle trees and the file SHA-256, each a separate job, with one thread per core."""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha1, sha256

from musark.pack.layout import BLOCK, Entry, Layout
from musark.pack.merkle import file_tree
from musark.run.executors import default_workers

# Largest run of files one job hashes: the passes of different threads over a run read it at
# about the same time, so all but the first find it in the CPU's shared cache.
GROUP = 16 << 20
PROGRESS = 8 << 20  # bytes between progress callbacks


@dataclass
class Digests:
    """Everything a torrent and a BagIt manifest need, from one pass over the bytes."""

    pieces: bytes | None = None  # v1: concatenated SHA-1 of every piece
    roots: dict[str, bytes] = field(default_factory=dict)  # v2: pieces root per path
    layers: dict[str, bytes] = field(default_factory=dict)  # v2: piece layer per path
    sha256: dict[str, str] = field(default_factory=dict)  # hex SHA-256 of files asked for


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
    """One hashing run: the jobs every thread takes in turn, and what they produce."""

    def __init__(
        self,
        layout: Layout,
        sha256_paths: set[str],
        advance: Callable[[int], None] | None,
    ) -> None:
        self.layout = layout
        self.sha256_paths = sha256_paths
        self.advance = advance
        p = layout.piece_size
        # pads are hashed from one shared buffer of zeros (a pad is shorter than a piece)
        self.zeros = memoryview(bytes(p)) if any(e.pad for e in layout.entries) else None
        self.pieces = _Pieces(layout.total, p) if layout.fmt != "v2" else None
        # one pass over an entry's bytes each; the first one present reports progress
        self.kinds: list[Callable[[int, memoryview, bool], None]] = []
        if self.pieces is not None:
            self.kinds.append(self.piece_hashes)
        if layout.fmt != "v1":
            self.kinds.append(self.leaf_hashes)
        self.kinds.append(self.file_sha256)
        self.out = Digests()
        self._lock = threading.Lock()
        self._views: dict[int, memoryview] = {}
        self._left: dict[int, int] = {}  # jobs not yet done per run of files
        self._leaves: deque[tuple[list[int], int, Callable]] = deque()
        self._others: deque[tuple[list[int], int, Callable]] = deque()
        self._leafing = 0  # threads hashing leaves now
        self.failed = False

    def entry(self, i: int, view: memoryview) -> None:
        """Feed every digest from ``view``, the whole content of entry ``i``."""
        for kind in self.kinds:
            kind(i, view, kind == self.kinds[0])

    def piece_hashes(self, i: int, view: memoryview, report: bool) -> None:
        """v1: SHA-1 of the pieces inside entry ``i``, one call per piece; the piece it ends
        (begun in an earlier file) and the one it begins (ending in a later file) are kept as
        zero-copy fragments until complete. Pads follow their file here."""
        e = self.layout.entries[i]
        off, n, p = self.layout.offsets[i], e.size, self.layout.piece_size
        pieces = self.pieces
        assert pieces is not None
        head = min(n, -off % p)
        body = n if off + n == self.layout.total else head + (n - head) // p * p
        if head:
            pieces.fragment(off // p, off, view[:head])
        report = report and self.advance is not None and not e.pad
        k, reported = (off + head) // p, 0
        for a in range(head, body, p):
            pieces.digests[k] = sha1(view[a : a + p]).digest()
            k += 1
            if report and a + p - reported >= PROGRESS:
                self.advance(min(a + p, n) - reported)  # type: ignore[misc]
                reported = min(a + p, n)
        if body < n:
            pieces.fragment((off + body) // p, off + body, view[body:])
        if report and n > reported:
            self.advance(n - reported)  # type: ignore[misc]

    def leaf_hashes(self, i: int, view: memoryview, report: bool) -> None:
        """v2: SHA-256 of every 16 KiB block of entry ``i``, then its merkle tree."""
        e = self.layout.entries[i]
        n = e.size
        if e.pad or not n:
            return
        leaves = [sha256(view[j : j + BLOCK]).digest() for j in range(0, n, BLOCK)]
        root, layer = file_tree(leaves, self.layout.piece_size)
        with self._lock:
            self.out.roots[e.path] = root
            if layer is not None:
                self.out.layers[e.path] = layer
        if report and self.advance is not None:
            self.advance(n)

    def file_sha256(self, i: int, view: memoryview, report: bool) -> None:
        """The whole entry's SHA-256, in one call (one release of the GIL), when asked for."""
        e = self.layout.entries[i]
        if e.path in self.sha256_paths:
            digest = sha256(view).hexdigest()
            with self._lock:
                self.out.sha256[e.path] = digest

    def _view(self, i: int) -> memoryview:
        """Entry ``i``'s file mapped read-only (no copy), shared by every job on it."""
        view = self._views.get(i)
        if view is None:
            view = self._views.setdefault(i, _map(self.layout.entries[i]))
        return view

    def job(self, group: list[int], g: int, kind: Callable[[int, memoryview, bool], None]) -> None:
        """One pass of one kind over a run of files (with the pads that follow them)."""
        entries = self.layout.entries
        report = kind == self.kinds[0]
        for i in group:
            kind(i, self._view(i), report)
            if kind == self.piece_hashes and i + 1 < len(entries) and entries[i + 1].pad:
                self.piece_hashes(i + 1, self.zeros[: entries[i + 1].size], report)  # type: ignore[index]
        with self._lock:
            self._left[g] -= 1
            last = not self._left[g]
        if last:  # the mappings go when their last job is done
            for i in group:
                self._views.pop(i, None)

    def work(self) -> None:
        """One thread: take the next job until none is left (or another thread failed)."""
        while not self.failed and (job := self._take()) is not None:
            try:
                self.job(*job)
            except BaseException:
                self.failed = True
                raise
            finally:
                if job[2] == self.leaf_hashes:
                    with self._lock:
                        self._leafing -= 1

    def _take(self) -> tuple[list[int], int, Callable] | None:
        """The next job. One thread at a time hashes 16 KiB leaves (a hashlib call and a GIL
        hand-over per leaf, every ~12 µs) while the others make long calls (a file's SHA-256,
        whole pieces) that rarely wait for the GIL; two leaf-hashing threads would wait for
        each other every few leaves. They share the leaves only when nothing else is left."""
        with self._lock:
            if self._leaves and (not self._leafing or not self._others):
                self._leafing += 1
                return self._leaves.popleft()
            return self._others.popleft() if self._others else None

    def plan(self, groups: list[list[int]]) -> None:
        """Queue every (run of files, kind of pass) job, largest runs first."""
        for g, group in enumerate(groups):
            for kind in self.kinds:
                if kind == self.file_sha256 and not any(
                    self.layout.entries[i].path in self.sha256_paths for i in group
                ):
                    continue
                (self._leaves if kind == self.leaf_hashes else self._others).append(
                    (group, g, kind)
                )
                self._left[g] = self._left.get(g, 0) + 1


def _map(e: Entry) -> memoryview:
    """The whole file of ``e``, mapped read-only; its size must be the expected one."""
    with open(e.source, "rb", buffering=0) as fh:  # type: ignore[arg-type]
        size = os.fstat(fh.fileno()).st_size
        if size != e.size:
            raise ValueError(f"{e.source}: file is {size} bytes, expected {e.size}")
        if not size:
            return memoryview(b"")
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    with contextlib.suppress(AttributeError, OSError):
        mm.madvise(mmap.MADV_SEQUENTIAL)
    return memoryview(mm)


def _groups(layout: Layout, disk: list[int], workers: int) -> list[list[int]]:
    """Runs of consecutive files, largest first. Each run takes 1/16 per worker of the bytes
    not yet grouped (at most 16 MiB, so the passes over it share the CPU cache), so runs shrink
    to single files at the end of the batch and no core idles while another finishes; a file
    bigger than its share is a run of its own and, being large, is hashed early."""
    groups: list[tuple[int, list[int]]] = []
    remaining = sum(layout.entries[i].size for i in disk)
    current: list[int] = []
    acc = 0
    for i in disk:
        current.append(i)
        acc += layout.entries[i].size
        if acc >= min(remaining // (workers * 16), GROUP):
            groups.append((acc, current))
            remaining -= acc
            current, acc = [], 0
    if current:
        groups.append((acc, current))
    groups.sort(key=lambda g: -g[0])  # stable: equal runs keep path order
    return [g for _, g in groups]


def _in_memory(run: _Run, indices: list[int], contents: Mapping[str, bytes]) -> None:
    """Hash entries whose bytes are in memory: ``contents`` or, for a pad, zeros."""
    for i in indices:
        e = run.layout.entries[i]
        data = run.zeros[: e.size] if e.pad else contents.get(e.path)  # type: ignore[index]
        if data is None or len(data) != e.size:
            raise ValueError(f"{e.path}: in-memory content missing or not {e.size} bytes")
        run.entry(i, memoryview(data))


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
    workers = workers or default_workers()
    run.plan(_groups(layout, disk, workers))
    # pads are hashed by the thread of the file they follow
    after_disk = {i + 1 for i in disk if i + 1 < len(layout.entries) and layout.entries[i + 1].pad}
    pending = [i for i, e in enumerate(layout.entries) if e.source is None and i not in after_disk]
    # in-memory files known now (tag files, pads) are hashed by this thread while the pool hashes
    # the disk, so the pieces they share with disk files are not left for after it
    ready = {i for i in pending if layout.entries[i].pad or layout.entries[i].path in contents}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run.work) for _ in range(workers)]
        try:
            _in_memory(run, sorted(ready), contents)
            for f in futures:
                f.result()
        except BaseException:
            run.failed = True
            for f in futures:
                f.cancel()
            raise
    rest = [i for i in pending if i not in ready]
    if late is not None and any(layout.entries[i].path not in contents for i in rest):
        contents.update(late(dict(run.out.sha256)))
    _in_memory(run, rest, contents)
    if run.pieces is not None:
        run.out.pieces = run.pieces.joined()
    return run.out
