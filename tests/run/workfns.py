"""Tiny picklable functions for executor tests (a light module: spawned workers import it fast)."""

from __future__ import annotations

import os
import signal


def square(x: int) -> int:
    """x²."""
    return x * x


def die_on_three(x: int) -> int:
    """Return x, except that the worker process is SIGKILLed on 3 (as a decoder segfault would)."""
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def die_on_three_in_chunk(xs: list[int]) -> list[int]:
    """die_on_three over a chunk of items."""
    return [die_on_three(x) for x in xs]
