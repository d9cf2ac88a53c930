"""Which libopus encodes: the system's when present (faster), PyAV's own otherwise or on request.

Each case runs in a fresh Python (the choice is made once per process, before PyAV loads), and
the dynamic linker itself (LD_DEBUG=bindings) says which file libavcodec's encoder calls reach.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]

# Encode one second through PyAV, report the chosen library and the encoded bytes' digest.
PROBE = """
import hashlib, json
import musark.media
from musark.media import libopus
from musark.media.synth import write_audio
from musark.media.transcode import to_opus
import sys
src = write_audio(sys.argv[1], 1.0, seed=1)
encoded = to_opus(src.read_bytes(), 75, "t")
lib = libopus.active()
print(json.dumps({"path": lib.path, "origin": lib.origin, "version": lib.version,
                  "note": lib.note, "sha": hashlib.sha256(encoded.data).hexdigest()}))
"""


def _system_libopus() -> str:
    name = ctypes.util.find_library("opus")
    if name is None:
        missing("the system libopus is not installed (Debian package libopus0, in .ci/run)")
    return name


def _run(tmp_path: Path, choice: str | None) -> tuple[dict, set[str]]:
    """(what musark reports, the files libavcodec's opus_* symbols were bound to)."""
    log = tmp_path / "ld"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}", "LD_DEBUG": "bindings"}
    env["LD_DEBUG_OUTPUT"] = str(log)
    env.pop("MUSARK_LIBOPUS", None)
    if choice is not None:
        env["MUSARK_LIBOPUS"] = choice
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "s.ogg")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    bound = set()
    pattern = re.compile(r"binding file \S*libavcodec\S* \[\d+\] to (\S+) \[\d+\]: .*`opus_")
    for part in tmp_path.glob("ld.*"):
        for line in part.read_text(errors="replace").splitlines():
            if m := pattern.search(line):
                bound.add(os.path.realpath(m.group(1)))
    return json.loads(proc.stdout.strip().splitlines()[-1]), bound


def test_the_system_libopus_encodes_by_default(tmp_path):
    _system_libopus()
    report, bound = _run(tmp_path, None)
    assert report["origin"] == "system" and report["note"] is None
    assert bound == {report["path"]}, bound
    assert "av.libs" not in report["path"]


def test_pyav_s_own_libopus_on_request_gives_other_bytes(tmp_path):
    _system_libopus()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    system, _ = _run(tmp_path / "a", None)
    bundled, bound = _run(tmp_path / "b", "bundled")
    assert bundled["origin"] == "bundled" and bound == {bundled["path"]}
    assert bundled["version"] != system["version"]
    assert bundled["sha"] != system["sha"]  # the library, not PyAV, decides the packets


def test_an_unusable_library_falls_back_to_pyav_s_own_and_says_why(tmp_path):
    not_opus = ctypes.util.find_library("z")  # loads, but exports no opus_* function
    report, bound = _run(tmp_path, not_opus)
    assert report["origin"] == "bundled" and bound == {report["path"]}
    assert "lacks opus_multistream_decode" in report["note"]
