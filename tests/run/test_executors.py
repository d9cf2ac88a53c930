"""Local process pool and Ray run the same per-track function and produce identical results."""

from __future__ import annotations

import time
from concurrent.futures.process import BrokenProcessPool

import psutil
import pytest

from musark.media.process import process_archive
from musark.run.executors import LocalExecutor, make_executor, map_chunks
from tests.run.helpers import make_workload, snapshot
from tests.run.workfns import die_on_three, die_on_three_in_chunk, square


def test_local_executor_yields_every_result():
    ex = LocalExecutor(2)
    try:
        assert sorted(ex.map_unordered(square, range(20))) == [x * x for x in range(20)]
    finally:
        ex.close()


def _pool_workers() -> int:
    return sum(
        "spawn_main" in " ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)
    )


def test_warm_starts_every_worker_before_any_work_is_submitted():
    ex = LocalExecutor(2)
    try:
        assert _pool_workers() == 0
        ex.warm(square)
        deadline = time.monotonic() + 60
        while _pool_workers() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pool_workers() == 2
        assert sorted(ex.map_unordered(square, range(5))) == [0, 1, 4, 9, 16]
        assert _pool_workers() == 2  # the warm workers did the work: none started later
    finally:
        ex.close()


def test_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("slurm")


def test_local_and_ray_executors_produce_identical_archives(tmp_path):
    import ray  # part of the test extras: a missing Ray must fail here, not skip

    sources = tmp_path / "src"
    local = make_workload(tmp_path / "local", sources)
    process_archive(local, source_dir=sources, workers=2, show_progress=False)
    on_ray = make_workload(tmp_path / "ray", sources)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        report = process_archive(on_ray, source_dir=sources, executor="ray", show_progress=False)
    finally:
        ray.shutdown()
    assert report.executor == "ray" and report.done == 16
    assert snapshot(on_ray) == snapshot(local)


def test_a_worker_that_dies_is_isolated_and_reported_the_others_complete():
    ex = LocalExecutor(2)
    try:
        results = list(
            ex.map_unordered(die_on_three, range(8), lambda item, exc: ("crashed", item))
        )
    finally:
        ex.close()
    assert ("crashed", 3) in results
    assert sorted(r for r in results if not isinstance(r, tuple)) == [0, 1, 2, 4, 5, 6, 7]


def test_items_submitted_after_a_worker_died_are_rerun_not_lost():
    # A worker can die between two waits; the next submissions then meet a broken pool. Here the
    # pool is broken before the map starts, so every submission does.
    ex = LocalExecutor(2)
    try:
        with pytest.raises(BrokenProcessPool):
            ex._pool.submit(die_on_three, 3).result()
        results = list(
            ex.map_unordered(die_on_three, range(8), lambda item, exc: ("crashed", item))
        )
    finally:
        ex.close()
    assert sorted(r for r in results if not isinstance(r, tuple)) == [0, 1, 2, 4, 5, 6, 7]
    assert ("crashed", 3) in results


def test_a_chunk_whose_worker_dies_is_rerun_item_by_item_to_find_the_culprit():
    ex = LocalExecutor(2)
    try:
        chunks = [[0, 1, 2], [3, 4, 5], [6, 7]]
        results = list(
            map_chunks(ex, die_on_three_in_chunk, chunks, lambda item, exc: ("crashed", item))
        )
    finally:
        ex.close()
    assert ("crashed", 3) in results
    assert sorted(r for r in results if not isinstance(r, tuple)) == [0, 1, 2, 4, 5, 6, 7]
