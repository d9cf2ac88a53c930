"""Which libopus encodes the opus tiers: the system's or the one bundled with PyAV.

PyAV's wheel bundles its own libopus (1.6.1 in av 18.1); ffmpeg on Debian encodes with the
system's libopus 1.3.1. One session measured 1.6.1 at ~7 % more CPU per file for the same encode
(same bitrate, VBR, complexity 10, 20 ms frames), a later one found no difference beyond the
machine's noise (see docs/media.md); the default is the library ffmpeg uses. PyAV still drives
the encoder (libavcodec's libopus wrapper, its muxer); only the
library under it changes. A libopus loaded into the process's global symbol scope before PyAV's
libavcodec is loaded is the one libavcodec binds its ``opus_*`` calls to: the dynamic linker
searches the global scope before a library's own dependencies. That has to happen before
``import av`` (Python loads extensions with RTLD_NOW, binding every symbol at import), so
``musark.media`` makes the choice when it is first imported, from the ``MUSARK_LIBOPUS``
environment variable, which worker processes inherit:

* ``system`` (default): the system libopus (``libopus.so.0``, Debian package libopus0) when it is
  found, is 1.3 or newer and exports every function libavcodec calls; else PyAV's own.
* ``bundled``: PyAV's own.
* a path to a libopus shared library: that one, under the same checks.

``active()`` says which library encodes in this process, checked by looking the encoder entry
point up in the global scope the way libavcodec's loader will.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ENV = "MUSARK_LIBOPUS"
# Every libopus function that PyAV's libavcodec imports (`nm -D --undefined-only libavcodec`).
NEEDED = (
    "opus_multistream_decode",
    "opus_multistream_decode_float",
    "opus_multistream_decoder_create",
    "opus_multistream_decoder_ctl",
    "opus_multistream_decoder_destroy",
    "opus_multistream_encode",
    "opus_multistream_encode_float",
    "opus_multistream_encoder_create",
    "opus_multistream_encoder_ctl",
    "opus_multistream_encoder_destroy",
    "opus_multistream_surround_encoder_create",
    "opus_strerror",
)
MIN_VERSION = (1, 3)


@dataclass(frozen=True)
class Libopus:
    """The libopus that encodes in this process."""

    version: str  # as the library reports it, e.g. "libopus 1.3.1"
    path: str
    origin: str  # "system" | "bundled" | "path" | "program"
    note: str | None = None  # why the requested library is not the one in use

    def describe(self) -> str:
        """One line for reports, e.g. ``libopus 1.3.1 (system: /usr/lib/…/libopus.so.0)``."""
        text = f"{self.version} ({self.origin}: {self.path})"
        return f"{text}; {self.note}" if self.note else text


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


_ACTIVE: Libopus | None = None


def _version(lib: ctypes.CDLL) -> str:
    fn = lib.opus_get_version_string
    fn.restype = ctypes.c_char_p
    return fn().decode()


def _version_tuple(version: str) -> tuple[int, ...]:
    found = re.search(r"(\d+)\.(\d+)", version)
    return tuple(int(x) for x in found.groups()) if found else (0,)


def _address(handle: ctypes.CDLL, symbol: str) -> int | None:
    try:
        return ctypes.cast(getattr(handle, symbol), ctypes.c_void_p).value
    except AttributeError:
        return None


def _file_of(address: int) -> str | None:
    info = _DlInfo()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not libc.dladdr(ctypes.c_void_p(address), ctypes.byref(info)) or not info.dli_fname:
        return None
    return os.path.realpath(info.dli_fname.decode())


def bundled_path() -> str | None:
    """PyAV's own libopus (in the wheel's ``av.libs``), found without importing PyAV."""
    spec = importlib.util.find_spec("av")
    if spec is None or not spec.submodule_search_locations:
        return None
    libs = Path(next(iter(spec.submodule_search_locations))).parent / "av.libs"
    found = sorted(libs.glob("libopus*.so*"))
    return str(found[0].resolve()) if found else None


def _bundled(note: str | None = None) -> Libopus:
    path = bundled_path()
    if path is None:  # a PyAV built against a shared libopus: whatever the loader finds
        return Libopus("libopus (linked by PyAV)", "unknown", "bundled", note)
    return Libopus(_version(ctypes.CDLL(path)), path, "bundled", note)


def _load_global(path: str, origin: str) -> Libopus | str:
    """Load ``path`` into the global scope if it is usable; else the reason it is not."""
    try:
        lib = ctypes.CDLL(path)  # local first: nothing is exposed until every check passed
    except OSError as exc:
        return f"{path} does not load ({exc})"
    missing = [name for name in NEEDED if not hasattr(lib, name)]
    if missing or not hasattr(lib, "opus_get_version_string"):
        return f"{path} lacks {', '.join(missing) or 'opus_get_version_string'}"
    version = _version(lib)
    if _version_tuple(version) < MIN_VERSION:
        return f"{path} is {version}, older than {'.'.join(map(str, MIN_VERSION))}"
    ctypes.CDLL(path, mode=os.RTLD_GLOBAL | os.RTLD_NOW)
    # What a library loaded from now on binds to: the global scope's definition of the encoder.
    # dlopen(NULL) looks symbols up in that scope, as the loader does for libavcodec.
    ours = _address(lib, "opus_multistream_encoder_create")
    first = _address(ctypes.CDLL(None), "opus_multistream_encoder_create")
    if first != ours and first is not None:  # e.g. the program itself links a libopus
        return Libopus(
            "libopus (version unknown)",
            _file_of(first) or "unknown",
            "program",
            f"{path} not used: the program's libopus comes first in the global scope",
        )
    return Libopus(version, _file_of(ours) or path, origin)


def select(choice: str | None = None) -> Libopus:
    """Choose the libopus for this process (once: the first call decides) and return it.

    ``choice``: ``system`` | ``bundled`` | a path; default ``$MUSARK_LIBOPUS`` or ``system``.
    """
    global _ACTIVE
    if _ACTIVE is not None:
        return _ACTIVE
    choice = (choice or os.environ.get(ENV) or "system").strip()
    if choice == "bundled":
        _ACTIVE = _bundled()
    elif "av" in sys.modules:
        _ACTIVE = _bundled(f"{choice} not used: PyAV was imported before musark.media")
    else:
        if choice == "system":
            path, origin = ctypes.util.find_library("opus"), "system"
            result = _load_global(path, origin) if path else "no system libopus found"
        else:
            result = _load_global(choice, "path")
        _ACTIVE = result if isinstance(result, Libopus) else _bundled(f"{choice}: {result}")
    return _ACTIVE


def active() -> Libopus:
    """The libopus that encodes in this process."""
    return select()
