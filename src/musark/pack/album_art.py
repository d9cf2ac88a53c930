"""The album art collection: one image per released album, named by album id, in its own torrent."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from musark.archive import Archive
from musark.fsio import atomic_path
from musark.ids import is_valid_id
from musark.pack.layout import Entry

IMAGE_EXTS = {"jpg", "jpeg", "png", "webp", "gif"}


@dataclass
class AlbumArt:
    """Files of the album-art torrent and the index's ``album_images`` rows."""

    files: list[Entry] = field(default_factory=list)
    rows: list[tuple[str, int | None, int | None, str]] = field(default_factory=list)


def art_dir(archive: Archive) -> Path:
    """Folder seeded as the ``album_art`` torrent (its root folder)."""
    return archive.release_dir / "album_art"


def _place(src: Path, dst: Path) -> None:
    if dst.exists() and filecmp.cmp(src, dst, shallow=False):
        return
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def collect_album_art(archive: Archive, con: duckdb.DuckDBPyConnection) -> AlbumArt:
    """Pick the largest local image of every album with a released track; place it in album_art/."""
    rows = con.execute(
        """
        SELECT i.album_id, i.width, i.height, i.url_or_path
        FROM album_images i
        WHERE i.url_or_path NOT LIKE '%://%'
          AND i.album_id IN (
            SELECT t.album_id FROM tracks t
            JOIN track_files f ON f.track_id = t.id
            JOIN batches b ON b.name = f.batch
            WHERE b.status = 'released' AND f.status = 'done')
        ORDER BY i.album_id, coalesce(i.width, 0) * coalesce(i.height, 0) DESC, i.url_or_path
        """
    ).fetchall()
    art = AlbumArt()
    out = art_dir(archive)
    chosen: set[str] = set()
    for album_id, width, height, src in rows:
        if album_id in chosen or not is_valid_id(album_id):
            continue
        path = Path(src)
        ext = path.suffix.lower().lstrip(".")
        if ext not in IMAGE_EXTS or not path.is_file():
            continue
        chosen.add(album_id)
        name = f"{album_id}.{ext}"
        _place(path, out / name)
        art.files.append(Entry(name, (out / name).stat().st_size, out / name))
        art.rows.append((album_id, width, height, name))
    if out.exists():
        keep = {e.path for e in art.files}
        for stale in out.iterdir():
            if stale.name not in keep:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
    return art
