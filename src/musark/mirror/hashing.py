"""SHA-256 of many files at disk/compute speed: one thread per core, each reading into its own buffer.

hashlib releases the GIL while hashing more than 2 KiB, so threads scale across cores. Each thread
reads with ``readinto`` into one reused 128 KiB buffer: no allocation per chunk, and the chunk
stays in the core's L2 cache between the kernel's copy and the hash (1 MiB chunks measured ~30 %
slower here). mmap would save the copy but turns a file truncated during the audit (a client still
writing) into SIGBUS; plain reads turn it into an ordinary short read.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

BUF_SIZE = 128 << 10
P = TypeVar("P", str, Path)
_local = threading.local()


def default_threads(configured: int = 0) -> int:
    """Hashing threads: ``configured`` when positive, else one per usable core."""
    if configured > 0:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def sha256_file(path: Path | str) -> tuple[int, str]:
    """Return (bytes read, hex SHA-256) of one file, read once sequentially."""
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = bytearray(BUF_SIZE)
    view = memoryview(buf)
    h = hashlib.sha256()
    total = 0
    with open(path, "rb", buffering=0) as fh:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while n := fh.readinto(view):
            h.update(view[:n])
            total += n
    return total, h.hexdigest()


def hash_many(
    paths: Iterable[P],
    threads: int = 0,
    on_done: Callable[[P, int], None] | None = None,
) -> Iterator[tuple[P, int, str | None, str | None]]:
    """Yield (path, size, sha256, error) for every path as each finishes; errors never stop the run.

    Workers take the next path from a shared counter and post results to a queue, so the caller's
    thread does one queue read per file (no future per file: on thousands of small files that
    bookkeeping, not hashing, was the cost).
    """
    todo: Sequence[P] = paths if isinstance(paths, Sequence) else list(paths)
    if not todo:
        return
    next_index = itertools.count().__next__  # atomic under the GIL
    results: queue.SimpleQueue = queue.SimpleQueue()

    def work() -> None:
        while (i := next_index()) < len(todo):
            path = todo[i]
            try:
                size, digest = sha256_file(path)
                results.put((path, size, digest, None))
            except OSError as exc:
                results.put((path, 0, None, f"{type(exc).__name__}: {exc.strerror or exc}"))
            except BaseException as exc:  # never leave the consumer waiting for a lost result
                results.put((path, 0, None, f"{type(exc).__name__}: {exc}"))

    workers = [
        threading.Thread(target=work, daemon=True)
        for _ in range(min(default_threads(threads), len(todo)))
    ]
    for w in workers:
        w.start()
    for _ in range(len(todo)):
        result = results.get()
        if on_done is not None:
            on_done(result[0], result[1])
        yield result
    for w in workers:
        w.join()
