"""Put a verified file into the mirror without ever destroying what was there.

A file already at the destination with other content is moved aside into
``state/quarantine/<batch>/`` (same filesystem, so a rename) before the verified copy is renamed
into place: a crash at any point leaves either the old file or the new one at the destination,
and the old one is always recoverable.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from musark.archive import Archive
from musark.fsio import fsync_dir


def quarantine_dir(archive: Archive) -> Path:
    """Where verify --repair and fetch move files they replace."""
    return archive.state_dir / "quarantine"


def move_aside(archive: Archive, batch: str, rel_path: str, path: Path) -> Path:
    """Rename ``path`` into the quarantine (never overwriting an earlier one); return its new path."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = quarantine_dir(archive) / batch / f"{rel_path}.{stamp}"
    n = 0
    while target.exists():
        n += 1
        target = target.with_name(f"{Path(rel_path).name}.{stamp}.{n}")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    fsync_dir(target.parent)
    return target


def install_file(archive: Archive, batch: str, rel_path: str, staged: Path) -> Path | None:
    """Move a verified ``staged`` file to ``files/<batch>/<rel_path>``; return where a replaced file went."""
    dest = archive.batch_dir(batch) / rel_path
    dest.parent.mkdir(parents=True, exist_ok=True)
    moved = move_aside(archive, batch, rel_path, dest) if dest.exists() else None
    with open(staged, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(staged, dest)
    fsync_dir(dest.parent)
    return moved
