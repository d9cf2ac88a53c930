"""kill -9 at any point, rerun: the archive equals the one an uninterrupted run produces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from musark.fsio import TMP_PREFIX
from musark.media.process import process_archive
from tests.run.helpers import WORKLOAD, make_workload, snapshot


def _musark_process(arc, sources, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "musark",
            "process",
            "--source",
            str(sources),
            "--archive",
            str(arc.root),
            "--workers",
            "2",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes the workers too
        **kw,
    )


def test_kill_9_mid_run_then_rerun_equals_a_clean_run(tmp_path):
    sources = tmp_path / "src"
    clean = make_workload(tmp_path / "clean", sources)
    process_archive(clean, source_dir=sources, workers=2, show_progress=False)

    arc = make_workload(tmp_path / "killed", sources)
    proc = _musark_process(arc, sources)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        outputs = [p for p in arc.files_dir.rglob("*") if p.is_file()]
        if len(outputs) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, (
        "the run finished before it could be killed: make the workload bigger"
    )
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = snapshot(arc)
    assert 0 < sum(f.startswith("files/") for f in partial["files"]) < len(WORKLOAD)

    rerun = _musark_process(arc, sources)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert snapshot(arc) == snapshot(clean)
    assert not [p for p in arc.root.rglob(f"{TMP_PREFIX}*")]


def test_rerun_after_completion_does_nothing_and_changes_nothing(tmp_path):
    sources = tmp_path / "src"
    arc = make_workload(tmp_path / "a", sources, WORKLOAD[:3])
    first = process_archive(arc, source_dir=sources, workers=1, show_progress=False)
    before = snapshot(arc)
    again = process_archive(arc, source_dir=sources, workers=1, show_progress=False)
    assert first.done == 3 and again.planned == 0 and again.done == 0
    assert snapshot(arc) == before
