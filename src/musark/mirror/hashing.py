"""SHA-256 of many files at disk/compute speed: one thread per core, each reading into its own buffer.

hashlib releases the GIL while hashing more than 2 KiB, so threads scale across cores. Each thread
reads with ``readinto`` into one reused 128 KiB buffer: no allocation per chunk, and the chunk
stays in the core's L2 cache between the kernel's copy and the hash (1 MiB chunks measured ~30 %
slower here). mmap would save the copy but turns a file truncated during the audit (a client still
writing) into SIGBUS; plain reads turn it into an ordinary short read.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BUF_SIZE = 128 << 10
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
    paths: Iterable[Path],
    threads: int = 0,
    on_done: Callable[[Path, int], None] | None = None,
) -> Iterator[tuple[Path, int, str | None, str | None]]:
    """Yield (path, size, sha256, error) for every path, hashed in parallel; errors never stop the run."""

    def one(path: Path) -> tuple[Path, int, str | None, str | None]:
        try:
            size, digest = sha256_file(path)
        except OSError as exc:
            return path, 0, None, f"{type(exc).__name__}: {exc.strerror or exc}"
        return path, size, digest, None

    with ThreadPoolExecutor(max_workers=default_threads(threads)) as pool:
        for result in pool.map(one, paths):
            if on_done is not None:
                on_done(result[0], result[1])
            yield result
