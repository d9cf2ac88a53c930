"""Worker memory: keep freed large buffers in the heap so the next job reuses them.

A worker handles one file after another, each as a few buffers of its size (source, archived
file, page copies). glibc malloc serves big blocks with fresh mmap()s and returns freed heap
tops to the kernel, so every job pays page faults and zeroing for all its megabytes again: a
third of the keep tier's CPU time went to the kernel that way. Raising both thresholds keeps
those pages mapped for the next job (blocks above 32 MiB are still mapped and unmapped).
"""

from __future__ import annotations

import ctypes
import functools
import sys

# glibc's mallopt() parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's upper limit for this setting on 64-bit systems
TRIM_THRESHOLD = 256 << 20  # at most this much freed heap is kept per process


@functools.cache
def reuse_freed_memory() -> bool:
    """Ask glibc malloc to keep freed buffers for reuse (once per process); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
