"""Atomic file writes: temporary name in the same folder, fsync, rename, fsync the folder."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

TMP_PREFIX = ".musark-tmp-"


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename inside it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_beside(path: Path) -> tuple[int, str]:
    """An open temporary file in ``path``'s folder (created if needed), named so that
    ``remove_stale_temps`` finds it should the writer be killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)


@contextlib.contextmanager
def atomic_writer(path: Path | str, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a binary file that appears at ``path`` only once fully written and synced."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path for a tool that writes a file by name; rename it to ``path`` on success."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: Path | str, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, mode=mode) as fh:
        fh.write(data)


def atomic_write_text(path: Path | str, text: str, mode: int = 0o644) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def _sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicBatch:
    """Files that appear together: each written under a temporary name and synced in the background
    while the caller computes the next, then all renamed in order and each folder synced once.

    Same guarantees as ``atomic_write_bytes`` for every file (nothing half-written is ever visible,
    a renamed file's bytes are on disk), for one wait on the disk per batch instead of one file
    sync and one folder sync per file. Use as a context manager: leaving it with an exception
    removes the temporary files and renames nothing.
    """

    def __init__(self) -> None:
        self._syncer = ThreadPoolExecutor(1, thread_name_prefix="fsync")
        self._pending: list[tuple[Path, Path, Future]] = []

    def write(self, path: Path | str, data: bytes, mode: int = 0o644) -> None:
        """Write ``data`` to a temporary file beside ``path``; it appears at ``commit()``."""
        path = Path(path)
        fd, tmp = _temp_beside(path)
        try:
            with open(fd, "wb", closefd=False) as fh:
                fh.write(data)
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._pending.append((Path(tmp), path, self._syncer.submit(_sync_and_close, fd)))

    def commit(self) -> None:
        """Wait for every sync, rename every file into place, then sync each folder once."""
        pending, self._pending = self._pending, []
        try:
            for _, _, synced in pending:
                synced.result()
            for tmp, path, _ in pending:
                os.replace(tmp, path)
        except BaseException:
            self._discard(pending)
            raise
        for folder in dict.fromkeys(path.parent for _, path, _ in pending):
            fsync_dir(folder)

    def _discard(self, pending: list[tuple[Path, Path, Future]]) -> None:
        for tmp, _, synced in pending:
            with contextlib.suppress(Exception):
                synced.result()  # its descriptor is closed once the sync has run
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def __enter__(self) -> AtomicBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                pending, self._pending = self._pending, []
                self._discard(pending)
        finally:
            self._syncer.shutdown(wait=True)


def remove_stale_temps(root: Path) -> int:
    """Delete temporary files left by a killed writer under ``root``; return how many."""
    removed = 0
    if not root.exists():
        return 0
    for tmp in root.rglob(f"{TMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed
