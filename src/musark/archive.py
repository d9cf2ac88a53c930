"""The archive directory: its layout (DESIGN.md) and where each stage reads and writes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from musark.config import DEFAULT_TOML, Settings, load_settings
from musark.fsio import atomic_write_text
from musark.ids import check_id

ARCHIVE_ENV = "MUSARK_ARCHIVE"
DEFAULT_ARCHIVE = Path("archive")
INDEX_NAME = "musark_index.sqlite3"


@dataclass(frozen=True)
class Archive:
    """Paths of one archive or mirror rooted at ``root``."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "musark.toml"

    @property
    def catalog_db(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def ledger_db(self) -> Path:
        return self.root / "ledger.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.root / "files"

    @property
    def patches_dir(self) -> Path:
        return self.root / "patches"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def torrents_dir(self) -> Path:
        return self.release_dir / "torrents"

    @property
    def torrents_json(self) -> Path:
        return self.release_dir / "torrents.json"

    @property
    def index_dir(self) -> Path:
        return self.release_dir / "index"

    @property
    def index_db(self) -> Path:
        """The uncompressed published index (made from the .zst on first use on a mirror)."""
        return self.index_dir / INDEX_NAME

    @property
    def index_zst(self) -> Path:
        return self.index_dir / f"{INDEX_NAME}.zst"

    @property
    def search_dir(self) -> Path:
        return self.root / "search"

    @property
    def state_dir(self) -> Path:
        """Local, unpublished state of a mirror or server (users, fixity ledger, fetch resume data)."""
        return self.root / "state"

    @property
    def is_mirror(self) -> bool:
        """True when there is no working catalogue here (a mirror of a published archive)."""
        return not self.catalog_db.exists()

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    def batch_dir(self, batch: str) -> Path:
        """Folder of one batch: the BagIt bag and the torrent root."""
        return self.files_dir / check_id(batch, "batch name")

    def batch_data_dir(self, batch: str) -> Path:
        return self.batch_dir(batch) / "data"

    def track_path(self, batch: str, track_id: str, ext: str) -> Path:
        """Where the archived file of ``track_id`` lives (``ext`` without the dot)."""
        return self.batch_data_dir(batch) / f"{check_id(track_id, 'track id')}.{ext}"

    def patch_path(self, batch: str, track_id: str) -> Path:
        return (
            self.patches_dir
            / check_id(batch, "batch name")
            / f"{check_id(track_id, 'track id')}.zstdpatch"
        )


def resolve_archive(path: Path | str | None = None) -> Archive:
    """Return the archive at ``path``, else ``$MUSARK_ARCHIVE``, else ``./archive``."""
    if path is None or str(path) == "":
        env = os.environ.get(ARCHIVE_ENV)
        path = Path(env) if env else DEFAULT_ARCHIVE
    return Archive(Path(path).expanduser().resolve())


def init_archive(archive: Archive) -> list[Path]:
    """Create the DESIGN.md layout and a commented ``musark.toml``; return what was created."""
    created: list[Path] = []
    for d in (
        archive.root,
        archive.files_dir,
        archive.patches_dir,
        archive.quarantine_dir,
        archive.torrents_dir,
        archive.index_dir,
        archive.search_dir,
        archive.state_dir,
    ):
        if not d.exists():
            d.mkdir(parents=True, exist_ok=True)
            created.append(d)
    if not archive.config_path.exists():
        atomic_write_text(archive.config_path, DEFAULT_TOML)
        created.append(archive.config_path)
    return created
