"""`musark restore`: rebuild a keep-tier track's original bytes from its archived file and patch."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.fsio import atomic_write_bytes
from musark.ids import check_id
from musark.media.patch import apply_patch


class RestoreError(RuntimeError):
    """The original cannot be rebuilt; ``str()`` says why."""


def restore_track(archive: Archive, track_id: str, out: Path) -> dict[str, Any]:
    """Write the original file of ``track_id`` to ``out`` after checking its SHA-256."""
    check_id(track_id, "track id")
    con = connect(archive.catalog_db, read_only=True)
    try:
        row = con.execute(
            "SELECT batch, tier, status, codec, ext, sha256, sha256_original, patch_size "
            "FROM track_files WHERE track_id = ? ORDER BY status = 'done' DESC LIMIT 1",
            [track_id],
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise RestoreError(f"track {track_id}: not in track_files")
    batch, tier, status, codec, ext, sha256, sha256_original, patch_size = row
    if status != "done":
        raise RestoreError(f"track {track_id}: status is {status!r}, nothing archived to restore")
    if patch_size is None:
        raise RestoreError(
            f"track {track_id}: re-encoded to {codec} (tier {tier}); the original was not kept, "
            "so it cannot be restored"
        )
    archived_path = archive.track_path(batch, track_id, ext)
    archived = archived_path.read_bytes()
    if hashlib.sha256(archived).hexdigest() != sha256:
        raise RestoreError(f"{archived_path}: SHA-256 differs from the catalogue (file damaged)")
    original = apply_patch(archived, archive.patch_path(batch, track_id).read_bytes())
    digest = hashlib.sha256(original).hexdigest()
    if digest != sha256_original:
        raise RestoreError(
            f"track {track_id}: rebuilt file has SHA-256 {digest}, expected {sha256_original}"
        )
    atomic_write_bytes(out, original)
    return {"track_id": track_id, "out": str(out), "size": len(original), "sha256": digest}
