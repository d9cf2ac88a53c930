"""Executors: run one pure function over many inputs on all local cores or a Ray cluster.

Both yield results as they complete and keep a bounded number of tasks in flight, so memory
stays flat whatever the number of inputs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    """Runs ``fn`` over ``items``, yielding results in completion order."""

    workers: int

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class LocalExecutor:
    """A process pool on this machine (the default)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # spawn, not fork: the parent holds DuckDB and SQLite handles that must not be inherited.
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
        )

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for every item as soon as each finishes."""
        it = iter(items)
        pending: set[Future] = set()
        limit = self.workers * 2
        while True:
            while len(pending) < limit:
                try:
                    pending.add(self._pool.submit(fn, next(it)))
                except StopIteration:
                    break
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()

    def close(self) -> None:
        """Stop the worker processes."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Ray tasks on a cluster (``address``) or on a local Ray started for this run."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("--executor ray needs Ray: pip install 'musark[cluster]'") from exc
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or cpus

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for every item as soon as each Ray task finishes."""
        ray = self._ray
        remote = ray.remote(num_cpus=1)(fn)
        it = iter(items)
        pending: list[Any] = []
        limit = self.workers * 2
        while True:
            while len(pending) < limit:
                try:
                    pending.append(remote.remote(next(it)))
                except StopIteration:
                    break
            if not pending:
                return
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)

    def close(self) -> None:
        """Shut Ray down when this executor started it."""
        if self._owns:
            self._ray.shutdown()


def make_executor(
    kind: str = "local", workers: int | None = None, address: str | None = None
) -> Executor:
    """Return the executor named ``kind`` (local | ray)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        return RayExecutor(address, workers)
    raise ValueError(f"unknown executor {kind!r} (choose from {', '.join(EXECUTORS)})")
