"""Executors: run one pure function over many inputs on all local cores or a Ray cluster.

Both yield results as they complete and keep a bounded number of tasks in flight, so memory
stays flat whatever the number of inputs.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("local", "ray")


# Called with (item, error) when the worker running ``item`` died (segfault, OOM kill, ...).
OnCrash = Callable[[Any, BaseException], Any]


class Executor(Protocol):
    """Runs ``fn`` over ``items``, yielding results in completion order."""

    workers: int

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], on_crash: OnCrash | None = None
    ) -> Iterator[R]: ...

    def warm(self, fn: Callable[..., Any]) -> None: ...

    def close(self) -> None: ...


def _top_up(
    pending: dict[Any, T], items: Iterator[T], submit: Callable[[T], Any], limit: int
) -> None:
    """Submit items until ``limit`` are in flight (bounded memory whatever the input size)."""
    while len(pending) < limit:
        try:
            item = next(items)
        except StopIteration:
            return
        pending[submit(item)] = item


def _import(module: str) -> None:
    importlib.import_module(module)


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
        self._pool = self._new_pool(self.workers)

    @staticmethod
    def _new_pool(workers: int) -> ProcessPoolExecutor:
        # spawn, not fork: the parent holds DuckDB and SQLite handles that must not be inherited.
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )

    def warm(self, fn: Callable[..., Any]) -> None:
        """Start every worker now, importing ``fn``'s module, while the caller gets its inputs
        ready (a worker otherwise starts at the first submission: ~0.4 s of imports each)."""
        for _ in range(self.workers):
            self._submit(_import, fn.__module__)

    def _isolate(self, fn: Callable[[T], R], suspects: list[T], on_crash: OnCrash) -> Iterator[R]:
        """Re-run the items that were in flight when a worker died, one at a time, to find it."""
        pool = self._new_pool(1)
        try:
            for item in suspects:
                try:
                    result = pool.submit(fn, item).result()
                except BrokenProcessPool as exc:
                    result = on_crash(item, exc)
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._new_pool(1)
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn: Callable[[T], R], item: T) -> Future:
        """``fn(item)`` on the pool; a pool a worker death broke since the last wait gives a
        failed future, so the item joins the suspects re-run one by one instead of being lost."""
        try:
            return self._pool.submit(fn, item)
        except BrokenProcessPool as exc:
            failed: Future = Future()
            failed.set_exception(exc)
            return failed

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], on_crash: OnCrash | None = None
    ) -> Iterator[R]:
        """Yield ``fn(item)`` for every item as soon as each finishes.

        When a worker process dies, the items in flight are re-run one by one; the one that kills
        its worker again is reported through ``on_crash`` (or the error is raised without it).
        """
        it = iter(items)
        pending: dict[Future, T] = {}
        while True:
            _top_up(pending, it, lambda item: self._submit(fn, item), self.workers * 2)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            suspects: list[T] = []
            for fut in done:
                item = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    if on_crash is None:
                        raise
                    suspects.append(item)
                    continue
                yield result
            if suspects:
                suspects += pending.values()  # every in-flight future died with the pool
                pending.clear()
                self._pool.shutdown(wait=True, cancel_futures=True)
                yield from self._isolate(fn, suspects, on_crash)
                self._pool = self._new_pool(self.workers)

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

    def warm(self, fn: Callable[..., Any]) -> None:
        """Nothing to do: Ray starts and keeps its own worker processes."""

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T], on_crash: OnCrash | None = None
    ) -> Iterator[R]:
        """Yield ``fn(item)`` for every item as soon as each Ray task finishes."""
        ray = self._ray
        remote = ray.remote(num_cpus=1)(fn)
        it = iter(items)
        pending: dict[Any, T] = {}
        while True:
            _top_up(pending, it, remote.remote, self.workers * 2)
            if not pending:
                return
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                item = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as exc:
                    if on_crash is None:
                        raise
                    result = on_crash(item, exc)
                yield result

    def close(self) -> None:
        """Shut Ray down when this executor started it."""
        if self._owns:
            self._ray.shutdown()


def map_chunks(
    executor: Executor,
    fn: Callable[[list[T]], list[R]],
    chunks: Iterable[list[T]],
    on_crash: Callable[[T, BaseException], R],
) -> Iterator[R]:
    """Yield every result of ``fn`` over ``chunks`` (a list of items each, a list of results back).

    A chunk whose worker died is run again one item per task once the others are done, so the
    item that kills its worker is found and reported through ``on_crash``; its neighbours finish.
    """
    retry: list[T] = []

    def crashed(chunk: list[T], error: BaseException) -> list[R]:
        if len(chunk) == 1:
            return [on_crash(chunk[0], error)]
        retry.extend(chunk)
        return []

    for results in executor.map_unordered(fn, chunks, crashed):
        yield from results
    for results in executor.map_unordered(fn, [[item] for item in retry], crashed):
        yield from results


def make_executor(
    kind: str = "local", workers: int | None = None, address: str | None = None
) -> Executor:
    """Return the executor named ``kind`` (local | ray)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        return RayExecutor(address, workers)
    raise ValueError(f"unknown executor {kind!r} (choose from {', '.join(EXECUTORS)})")
