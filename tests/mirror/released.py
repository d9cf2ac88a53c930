"""A small released archive built from real parts, its mirror, and a libtorrent seeder on loopback.

Audio comes from musark.media.synth, bags from bagit-python, torrents from libtorrent's own
create_torrent, the index through musark.index.schema; nothing is canned.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import bagit
import libtorrent as lt
import zstandard

from musark.archive import Archive, init_archive
from musark.index.schema import create_schema
from musark.media.synth import write_audio

BATCHES = ("keep-000001", "keep-000002", "opus75-000001")
EXTS = ("ogg", "flac", "mp3", "opus")
PIECE = 16 * 1024  # small pieces: a piece often spans two files, as in real batches
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
    """One generated track and where it went."""

    id: str
    isrc: str
    album_id: str
    upc: str
    artist: str
    title: str
    batch: str
    path: str
    size: int = 0
    sha256: str = ""
    file_index: int = -1


@dataclass
class Released:
    """A released archive: its root and the tracks it holds."""

    archive: Archive
    tracks: list[Track] = field(default_factory=list)

    def by_batch(self, batch: str) -> list[Track]:
        """Tracks of one batch."""
        return [t for t in self.tracks if t.batch == batch]


def build_released(root: Path, per_batch: int = 8, seconds: float = 1.5) -> Released:
    """Generate audio in three batches, bag them, make v1 torrents and the index; return the archive."""
    arc = Archive(root)
    init_archive(arc)
    rel = Released(arc)
    n = 0
    for b, batch in enumerate(BATCHES):
        bdir = arc.batch_dir(batch)
        bdir.mkdir(parents=True)
        for i in range(per_batch):
            n += 1
            album = f"al{b}{i // 4}"
            ext = EXTS[n % len(EXTS)]
            t = Track(
                id=f"tr{n:04d}",
                isrc=f"QZES726{n:05d}",
                album_id=album,
                upc=f"0{800000000000 + b * 10 + i // 4}",
                artist=f"Artist {chr(65 + b)}{i // 4}",
                title=f"Song number {n}",
                batch=batch,
                path=f"data/tr{n:04d}.{ext}",
            )
            write_audio(bdir / f"{t.id}.{ext}", seconds + 0.1 * i, seed=n)
            rel.tracks.append(t)
        bagit.make_bag(str(bdir), {"External-Identifier": batch}, checksums=["sha256"])
        for t in rel.by_batch(batch):
            data = (bdir / t.path).read_bytes()
            t.size, t.sha256 = len(data), hashlib.sha256(data).hexdigest()
    torrents = {batch: _make_torrent(arc, batch, rel) for batch in BATCHES}
    _write_index(arc, rel, torrents)
    return rel


def _make_torrent(arc: Archive, batch: str, rel: Released) -> dict:
    entries = lt.list_files(str(arc.batch_dir(batch)))
    ct = lt.create_torrent(entries, PIECE, lt.create_torrent.v1_only)
    ct.set_creator("musark-tests")
    lt.set_piece_hashes(ct, str(arc.files_dir))
    data = lt.bencode(ct.generate())
    path = arc.torrents_dir / f"{batch}.torrent"
    path.write_bytes(data)
    ti = lt.torrent_info(str(path))
    index = {ti.layout().file_path(i): i for i in range(ti.num_files())}
    for t in rel.by_batch(batch):
        t.file_index = index[f"{batch}/{t.path}"]
    btih = str(ti.info_hashes().v1)
    return {
        "name": batch,
        "btih": btih,
        "magnet": f"magnet:?xt=urn:btih:{btih}&dn={batch}",
        "torrent_path": f"torrents/{batch}.torrent",
        "num_files": ti.num_files(),
        "size": ti.total_size(),
    }


def _write_index(arc: Archive, rel: Released, torrents: dict[str, dict]) -> None:
    db = arc.index_dir / "build.sqlite3"
    con = sqlite3.connect(db)
    create_schema(con)
    artists = {a: f"ar{i:03d}" for i, a in enumerate(dict.fromkeys(t.artist for t in rel.tracks))}
    con.executemany(
        "INSERT INTO artists(id, name) VALUES (?, ?)", [(v, k) for k, v in artists.items()]
    )
    albums = {t.album_id: t.upc for t in rel.tracks}
    con.executemany(
        "INSERT INTO albums(id, name, upc) VALUES (?, ?, ?)",
        [(a, f"Album {a}", upc) for a, upc in albums.items()],
    )
    con.executemany(
        "INSERT INTO tracks(id, name, album_id, track_number, disc_number, isrc, popularity) "
        "VALUES (?, ?, ?, ?, 1, ?, 50)",
        [(t.id, t.title, t.album_id, i, t.isrc) for i, t in enumerate(rel.tracks)],
    )
    con.executemany(
        "INSERT INTO track_artists VALUES (?, ?, 0)",
        [(t.id, artists[t.artist]) for t in rel.tracks],
    )
    con.executemany(
        "INSERT INTO track_files(track_id, batch, path, file_index_in_torrent, size, sha256, tier) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (t.id, t.batch, t.path, t.file_index, t.size, t.sha256, t.batch.split("-")[0])
            for t in rel.tracks
        ],
    )
    con.executemany(
        "INSERT INTO torrents(name, kind, btih, magnet_link, torrent_path, num_files, data_size) "
        "VALUES (?, 'batch', ?, ?, ?, ?, ?)",
        [
            (x["name"], x["btih"], x["magnet"], x["torrent_path"], x["num_files"], x["size"])
            for x in torrents.values()
        ],
    )
    # A catalogued track without a file: locate must say so rather than invent a location.
    con.execute(
        "INSERT INTO tracks(id, name, album_id, isrc) VALUES ('tr9999', 'Unreleased', 'al00', "
        "'QZES72699999')"
    )
    con.commit()
    con.close()
    arc.index_zst.write_bytes(zstandard.ZstdCompressor().compress(db.read_bytes()))
    db.unlink()


def make_mirror(rel: Released, root: Path) -> Archive:
    """A fresh mirror of ``rel``: release/ copied, no batch folders, loopback-only settings."""
    mirror = Archive(root)
    root.mkdir(parents=True)
    shutil.copytree(rel.archive.release_dir, mirror.release_dir)
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
        for t in sorted(rel.archive.torrents_dir.glob("*.torrent")):
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
