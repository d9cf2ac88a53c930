"""Every benchmark runs end to end at a tiny size and keeps its output contract.

Timings at this size mean nothing, and nothing here asserts on them. The test exists so that a
change elsewhere cannot silently break a benchmark: the last line of output must be one JSON
object with at least one `_ratio` figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent

# script, tiny-size arguments, Debian tools its peer needs
CASES = {
    "catalog": (["--tracks", "3000", "--lookups", "50", "--repeat", "2"], []),
    "plan": (["--tracks", "20000", "--repeat", "2"], []),
    "media": (
        [
            "--files",
            "2",
            "--seconds",
            "4",
            "--repeat",
            "2",
            "--instructions",
            "--count-seconds",
            "2",
        ],
        ["ffmpeg", "valgrind"],
    ),
    "release": (["--gb", "0.02", "--files", "10", "--repeat", "1"], ["mktorrent"]),
    "mirror": (["--gb", "0.02", "--files", "10", "--rounds", "1"], ["sha256sum"]),
    "serve_search": (["--tracks", "2000", "--queries", "20"], []),
    "serve": (
        ["--tracks", "40", "--queries", "10", "--albums", "5", "--streams", "5", "--seconds", "2"],
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_benchmark_runs_and_prints_its_ratios(name, tmp_path):
    args, tools = CASES[name]
    for tool in tools:
        require_tool(tool)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(tmp_path)}
    if name in ("catalog", "serve_search"):
        args = [*args, "--workdir", str(tmp_path / "work")]
    elif name == "serve":
        args = [*args, "--out", str(tmp_path / "out")]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    ratios = {k: v for k, v in figures.items() if k.endswith("_ratio")}
    assert ratios and all(isinstance(v, int | float) and v > 0 for v in ratios.values()), figures
    if name == "catalog":  # every pair of runs is reported, the ratio is their median
        assert figures["runs"] == 2 and len(figures["ingest_ratios"]) == 2, figures
        assert min(figures["ingest_ratios"]) <= figures["ingest_vs_duckdb_ratio"], figures
        assert figures["ingest_vs_duckdb_ratio"] <= max(figures["ingest_ratios"]), figures
    if name == "media":  # the same for both of its ratios
        for key in ("opus_files_per_s", "opus_files_per_cpu_s"):
            pairs = figures[f"{key}_ratios"]
            assert len(pairs) == 2 and min(pairs) <= figures[f"{key}_ratio"] <= max(pairs), figures
        # instructions counted by valgrind: a 2-s track costs musark about what an encode costs
        # ffmpeg less its process start-up (~0.2 G, half of it here); only a broken count (or
        # encode) lands outside these bounds
        per_file = figures["musark_opus_instructions_per_file"]
        assert 0.5 < figures["ffmpeg_opus_instructions_per_file"] / per_file < 4, figures
