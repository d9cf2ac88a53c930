"""A small released archive built by the real pipeline, its mirror, and a libtorrent seeder on loopback.

The archive is made by ``musark release`` (musark.pack.release) from a catalogue that
tests/pack/builder.py fills as plan + process would (generated CC0 audio from
musark.media.synth); what the tests expect is read back from the published index.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import libtorrent as lt

from musark.archive import Archive, init_archive
from musark.catalog.schema import connect
from musark.index.open import open_index
from musark.pack.release import release
from tests.pack.builder import build_archive

BATCHES = ("keep__0001", "keep__0002", "opus75__0001")
PIECE = "16KiB"  # small pieces: a piece often spans two files, as in real batches
UNARCHIVED_ISRC = "QZZZZ2499999"
LOOPBACK = "127.0.0.1:0"
MIRROR_TOML = """\
[mirror]
listen_interfaces = "127.0.0.1:0"
dht = false
lsd = false
upnp = false
natpmp = false
resume_interval = 1
stall_timeout = 60
"""


@dataclass
class Track:
    """One released track as the published index describes it."""

    id: str
    isrc: str
    album_id: str
    upc: str
    artist: str
    title: str
    batch: str
    path: str
    size: int
    sha256: str
    file_index: int


@dataclass
class Released:
    """A released archive: its root and the tracks it holds."""

    archive: Archive
    tracks: list[Track] = field(default_factory=list)

    def by_batch(self, batch: str) -> list[Track]:
        """Tracks of one batch."""
        return [t for t in self.tracks if t.batch == batch]


def build_released(
    root: Path, per_batch: int = 8, fmt: str = "v1", batches: tuple[str, ...] = BATCHES
) -> Released:
    """Catalogue batches of generated audio, run the real `musark release` on them."""
    arc = Archive(root)
    init_archive(arc)
    build_archive(arc, {b: per_batch for b in batches}, seconds=1.5)
    con = connect(arc.catalog_db)
    # A catalogued track with no file in any batch: locate must say so, not invent a location.
    con.execute(
        "INSERT INTO tracks (id, name, album_id, track_number, disc_number, duration_ms, explicit, "
        "isrc, popularity, streams, fetched_at, source) "
        "VALUES ('tunarchived', 'Unreleased', 'al0', 99, 1, 1000, false, ?, 1, NULL, NULL, 'test')",
        [UNARCHIVED_ISRC],
    )
    con.close()
    release(arc, next_n=len(batches), fmt=fmt, piece_size=PIECE, show_progress=False)
    idx = open_index(arc)
    rows = idx.execute(
        """SELECT t.id, t.isrc, t.album_id, al.upc, a.name, t.name, f.batch, f.path, f.size,
                  f.sha256, f.file_index_in_torrent
           FROM track_files f JOIN tracks t ON t.id = f.track_id
           JOIN albums al ON al.id = t.album_id
           JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
           JOIN artists a ON a.id = ta.artist_id
           ORDER BY f.batch, t.id"""
    ).fetchall()
    idx.close()
    return Released(arc, [Track(*r) for r in rows])


def make_mirror(rel: Released, root: Path) -> Archive:
    """A fresh mirror of ``rel``: release/ copied, no batch folders, loopback-only settings."""
    mirror = Archive(root)
    root.mkdir(parents=True)
    # As published: the compressed index only (the mirror decompresses it on first use).
    shutil.copytree(
        rel.archive.release_dir,
        mirror.release_dir,
        ignore=lambda d, names: [n for n in names if Path(d, n) == rel.archive.index_db],
    )
    (root / "musark.toml").write_text(MIRROR_TOML)
    return mirror


class Seeder:
    """A libtorrent session on 127.0.0.1 seeding every batch from a copy of the archive's files/."""

    def __init__(self, rel: Released, workdir: Path) -> None:
        self.files = workdir / "seed-files"
        shutil.copytree(rel.archive.files_dir, self.files)
        self.ses = lt.session(
            {
                "listen_interfaces": LOOPBACK,
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "allow_multiple_connections_per_ip": True,
            }
        )
        self.handles = []
        for t in sorted({rel.archive.torrents_dir / f"{t.batch}.torrent" for t in rel.tracks}):
            atp = lt.add_torrent_params()
            atp.ti = lt.torrent_info(str(t))
            atp.save_path = str(self.files)
            self.handles.append(self.ses.add_torrent(atp))
        deadline = time.monotonic() + 60
        while not all(h.status().is_seeding for h in self.handles):
            if time.monotonic() > deadline:
                raise RuntimeError("seeder did not finish checking its files")
            time.sleep(0.05)

    @property
    def peer(self) -> str:
        """HOST:PORT to give to ``musark fetch --peer``."""
        return f"127.0.0.1:{self.ses.listen_port()}"

    def throttle(self, bytes_per_second: int) -> None:
        """Limit upload speed (0 = unlimited), so a test can interrupt a transfer midway."""
        # Loopback peers are in libtorrent's unthrottled "local" class: put every address in the global one.
        everyone = lt.ip_filter()
        everyone.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        self.ses.set_peer_class_filter(everyone)
        self.ses.apply_settings({"upload_rate_limit": bytes_per_second})

    def close(self) -> None:
        """Stop seeding."""
        for h in self.handles:
            self.ses.remove_torrent(h)
        del self.ses


def client_download(mirror: Archive, peer: str, batches: tuple[str, ...] = BATCHES) -> None:
    """Download whole batches the way any BitTorrent client does: a plain session, save path files/."""
    ses = lt.session(
        {
            "listen_interfaces": LOOPBACK,
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
        }
    )
    host, port = peer.rsplit(":", 1)
    handles = []
    for batch in batches:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(str(mirror.torrents_dir / f"{batch}.torrent"))
        atp.save_path = str(mirror.files_dir)
        h = ses.add_torrent(atp)
        h.connect_peer((host, int(port)))
        handles.append(h)
    deadline = time.monotonic() + 60
    while not all(h.status().is_seeding for h in handles):
        if time.monotonic() > deadline:
            raise RuntimeError("client download did not complete")
        time.sleep(0.05)
    for h in handles:
        ses.remove_torrent(h)
    del ses
