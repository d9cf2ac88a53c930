"""Download chosen files of released batches from the swarm: only the pieces they touch, verified, moved in.

One libtorrent session serves the whole request; files are grouped by batch (one torrent each)
and every other file of that torrent gets priority 0, so only pieces overlapping a wanted file
are requested (their bytes belonging to unwanted files go to libtorrent's part file). Downloads
land in ``state/fetch/staging/``; each finished file's SHA-256 is checked against the index and
only then renamed into ``files/<batch>/``. libtorrent's resume data is saved under
``state/fetch/resume/`` so a killed fetch continues where it stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libtorrent as lt

from musark.archive import Archive
from musark.console import progress
from musark.fsio import atomic_write_bytes
from musark.index.open import open_index
from musark.index.query import IndexedFile, torrent_row
from musark.mirror.fixity import FixityLedger
from musark.mirror.hashing import sha256_file
from musark.mirror.install import install_file
from musark.mirror.session import make_session, parse_peer

_POLL_MS = 250
_RECONNECT_S = 3.0
_FLUSH_WAIT_S = 30.0
# Resume data lists only pieces already on disk, so flush libtorrent's write buffer with each save.
_SAVE_FLAGS = lt.torrent_handle.save_info_dict | lt.torrent_handle.flush_disk_cache


def fetch_dir(archive: Archive) -> Path:
    """Root of fetch's private state (staging area and resume data)."""
    return archive.state_dir / "fetch"


def staging_dir(archive: Archive) -> Path:
    """Where libtorrent writes; nothing here is part of the mirror until verified and moved."""
    return fetch_dir(archive) / "staging"


@contextlib.contextmanager
def fetch_lock(archive: Archive) -> Iterator[None]:
    """Hold the mirror's fetch lock: two sessions writing one staging area would corrupt each other."""
    path = fetch_dir(archive) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"{archive.root}: another musark fetch or verify --repair is running here"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def resume_path(archive: Archive, btih: str) -> Path:
    """libtorrent resume data of one torrent."""
    return fetch_dir(archive) / "resume" / f"{btih.lower()}.resume"


@dataclass
class FileResult:
    """What happened to one requested file."""

    track_id: str
    batch: str
    path: str
    size: int
    status: str  # fetched | present | failed
    reason: str | None = None
    replaced: str | None = None  # where a differing earlier file was moved

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return dict(self.__dict__)


@dataclass
class Download:
    """Outcome of one download: each file, and per torrent what was wanted and what was received."""

    files: list[FileResult]
    torrents: list[dict[str, Any]]


@dataclass
class _Job:
    batch: str
    files: list[IndexedFile]
    btih: str
    source: str
    handle: Any = None
    total: int = 0
    done: int = 0
    task: Any = None
    error: str | None = None
    finished: bool = False
    downloaded: int = 0  # payload bytes received in this run
    flush_asked: float | None = None  # when the wanted bytes were complete and a flush requested
    flushed: bool = False
    last_progress: float = field(default_factory=time.monotonic)
    last_connect: float = 0.0


def _torrent_source(archive: Archive, con: Any, batch: str) -> tuple[str, lt.add_torrent_params]:
    row = torrent_row(con, batch)
    if row is None:
        raise LookupError(f"batch {batch!r}: no torrent in the index")
    local = archive.release_dir / row["torrent_path"]
    if local.exists():
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(str(local))
        return str(local), atp
    return row["magnet_link"], lt.parse_magnet_uri(row["magnet_link"])


def _check_layout(job: _Job, ti: lt.torrent_info) -> None:
    """The index's file index must name the same path and size in the torrent, or we'd fetch the wrong bytes."""
    fs = ti.layout()
    for f in job.files:
        if f.file_index >= fs.num_files():
            raise LookupError(f"{job.batch}/{f.path}: file index {f.file_index} not in the torrent")
        tpath = fs.file_path(f.file_index).replace("\\", "/")
        if tpath != f"{job.batch}/{f.path}" or fs.file_size(f.file_index) != f.size:
            raise LookupError(
                f"{job.batch}/{f.path}: torrent file {f.file_index} is {tpath!r} "
                f"({fs.file_size(f.file_index)} bytes), index says {f.size} bytes"
            )


def _priorities(job: _Job, num_files: int | None) -> list[int]:
    n = num_files if num_files is not None else max(f.file_index for f in job.files) + 1
    prio = [0] * n
    for f in job.files:
        prio[f.file_index] = 4
    return prio


def _add(archive: Archive, ses: lt.session, con: Any, job: _Job) -> None:
    job.source, atp = _torrent_source(archive, con, job.batch)
    rp = resume_path(archive, job.btih)
    if rp.exists():
        with contextlib.suppress(RuntimeError, ValueError):
            resumed = lt.read_resume_data(rp.read_bytes())
            if atp.ti is not None:
                resumed.ti = atp.ti
            elif resumed.ti is None:
                resumed.info_hashes = atp.info_hashes
                resumed.trackers = atp.trackers
                resumed.url_seeds = atp.url_seeds
            atp = resumed
    if atp.ti is not None:
        _check_layout(job, atp.ti)
    atp.save_path = str(staging_dir(archive))
    atp.file_priorities = _priorities(job, atp.ti.num_files() if atp.ti is not None else None)
    flags = atp.flags | lt.torrent_flags.default_dont_download
    flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
    flags &= ~(lt.torrent_flags.upload_mode | lt.torrent_flags.seed_mode)
    atp.flags = flags
    job.handle = ses.add_torrent(atp)
    job.total = sum(f.size for f in job.files)


def _file_done(job: _Job) -> int:
    st = job.handle.status(0)
    job.downloaded = st.total_payload_download
    if not st.has_metadata:
        return 0
    fp = job.handle.file_progress(flags=lt.torrent_handle.piece_granularity)
    return sum(min(fp[f.file_index], f.size) for f in job.files)


def _finish(archive: Archive, ses: lt.session, job: _Job, ledger: FixityLedger) -> list[FileResult]:
    """Remove the torrent, check every staged file against the index, move the good ones in."""
    ti = job.handle.torrent_file()
    ses.remove_torrent(job.handle)
    job.finished = True
    # Resume data would claim pieces of files about to leave staging; without it a rerun re-checks.
    resume_path(archive, job.btih).unlink(missing_ok=True)
    (staging_dir(archive) / f".{job.btih.lower()}.parts").unlink(missing_ok=True)
    results = []
    checked = []
    for f in job.files:
        staged = staging_dir(archive) / ti.layout().file_path(f.file_index)
        if f.size == 0 and not staged.exists():  # libtorrent has no bytes to write for it
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.touch()
        try:
            size, digest = sha256_file(staged)
        except OSError as exc:
            results.append(_failed(f, f"staged file unreadable: {exc}"))
            continue
        if size != f.size or digest != f.sha256:
            staged.unlink(missing_ok=True)
            results.append(_failed(f, f"downloaded sha256 {digest} != index {f.sha256}"))
            continue
        replaced = install_file(archive, f.batch, f.path, staged)
        dest = archive.batch_dir(f.batch) / f.path
        checked.append((f.path, size, dest.stat().st_mtime_ns, digest, "ok"))
        results.append(
            FileResult(f.track_id, f.batch, f.path, f.size, "fetched", None, _str(replaced))
        )
    ledger.record(job.batch, checked)
    return results


def _str(p: Path | None) -> str | None:
    return None if p is None else str(p)


def _failed(f: IndexedFile, reason: str) -> FileResult:
    return FileResult(f.track_id, f.batch, f.path, f.size, "failed", reason)


def download_files(
    archive: Archive,
    files: Iterable[IndexedFile],
    *,
    peers: Sequence[str] = (),
    listen: str | None = None,
    stall_timeout: float | None = None,
    show_progress: bool | None = None,
) -> Download:
    """Download ``files`` from the swarm, verify each against the index and install it in the mirror."""
    cfg = archive.settings.section("mirror")
    peer_addrs = [parse_peer(p) for p in peers]
    stall = float(cfg.get("stall_timeout", 600) if stall_timeout is None else stall_timeout)
    by_batch: dict[str, list[IndexedFile]] = {}
    for f in files:
        by_batch.setdefault(f.batch, []).append(f)
    if not by_batch:
        return Download([], [])
    con = open_index(archive)
    try:
        results: list[FileResult] = []
        jobs: list[_Job] = []
        for batch, fs in sorted(by_batch.items()):
            row = torrent_row(con, batch)
            if row is None:
                results += [_failed(f, f"batch {batch!r} has no torrent in the index") for f in fs]
                continue
            jobs.append(_Job(batch, sorted(fs, key=lambda f: f.file_index), row["btih"], ""))
        staging_dir(archive).mkdir(parents=True, exist_ok=True)
        resume_path(archive, "x").parent.mkdir(parents=True, exist_ok=True)
        with fetch_lock(archive):
            results += _download(archive, con, jobs, cfg, peer_addrs, listen, stall, show_progress)
        torrents = [
            {
                "batch": j.batch,
                "btih": j.btih,
                "source": j.source,
                "files": len(j.files),
                "wanted_bytes": j.total,
                "downloaded_bytes": j.downloaded,
                "error": j.error,
            }
            for j in jobs
        ]
        results.sort(key=lambda f: (f.batch, f.path))
        return Download(results, torrents)
    finally:
        con.close()


def _download(
    archive: Archive,
    con: Any,
    jobs: list[_Job],
    cfg: dict[str, Any],
    peer_addrs: list[tuple[str, int]],
    listen: str | None,
    stall: float,
    show_progress: bool | None,
) -> list[FileResult]:
    resume_every = float(cfg.get("resume_interval", 10))
    results: list[FileResult] = []
    ses = make_session(cfg, peers=peer_addrs, listen=listen)
    ledger = FixityLedger(archive)
    try:
        for job in list(jobs):
            try:
                _add(archive, ses, con, job)
            except (LookupError, RuntimeError) as exc:
                results += [_failed(f, str(exc)) for f in job.files]
                jobs.remove(job)
        results += _run(archive, ses, jobs, peer_addrs, stall, resume_every, show_progress, ledger)
    finally:
        ledger.close()
    return results


def _active(jobs: list[_Job]) -> list[_Job]:
    return [j for j in jobs if not j.finished and j.error is None]


def _on_alert(archive: Archive, job: _Job, alert: Any) -> None:
    """React to one libtorrent alert about ``job``'s torrent."""
    if isinstance(alert, lt.save_resume_data_alert):
        atomic_write_bytes(resume_path(archive, job.btih), lt.write_resume_data_buf(alert.params))
    elif isinstance(alert, lt.metadata_received_alert):
        ti = job.handle.torrent_file()
        try:
            _check_layout(job, ti)
        except LookupError as exc:
            job.error = str(exc)
            return
        job.handle.prioritize_files(_priorities(job, ti.num_files()))
    elif isinstance(alert, lt.cache_flushed_alert):
        job.flushed = True
    elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
        job.error = f"{job.batch}: {alert.message()}"


def _step(job: _Job, now: float, peers: list[tuple[str, int]], stall: float) -> bool:
    """Advance one torrent's bookkeeping; True when its wanted files are complete and on disk."""
    done = _file_done(job)
    if done > job.done:
        job.done, job.last_progress = done, now
    if job.done >= job.total:
        # libtorrent may still hold verified pieces in its write buffer: flush first.
        if job.flush_asked is None:
            job.handle.flush_cache()
            job.flush_asked = now
        return job.flushed or now - job.flush_asked > _FLUSH_WAIT_S
    if peers and now - job.last_connect > _RECONNECT_S:
        if job.handle.status(0).num_peers == 0:
            for peer in peers:
                job.handle.connect_peer(peer)
        job.last_connect = now
    if stall and now - job.last_progress > stall:
        job.error = f"{job.batch}: no data from the swarm for {stall:g} s ({job.source})"
    return False


def _run(
    archive: Archive,
    ses: lt.session,
    jobs: list[_Job],
    peers: list[tuple[str, int]],
    stall: float,
    resume_every: float,
    show_progress: bool | None,
    ledger: FixityLedger,
) -> list[FileResult]:
    results: list[FileResult] = []
    by_handle = {job.handle: job for job in jobs}
    last_save = time.monotonic()
    try:
        with progress(
            transfer=True, disable=None if show_progress is None else not show_progress
        ) as bar:
            for job in jobs:
                job.task = bar.add_task(job.batch, total=job.total)
            while _active(jobs):
                for alert in ses.pop_alerts():
                    job = by_handle.get(getattr(alert, "handle", None))
                    if job is not None and not job.finished:
                        _on_alert(archive, job, alert)
                now = time.monotonic()
                for job in _active(jobs):
                    complete = _step(job, now, peers, stall)
                    bar.update(job.task, completed=job.done)
                    if complete:
                        results += _finish(archive, ses, job, ledger)
                if now - last_save > resume_every:
                    for job in _active(jobs):
                        job.handle.save_resume_data(_SAVE_FLAGS)
                    last_save = now
                ses.wait_for_alert(_POLL_MS)
    except KeyboardInterrupt:
        # Interrupted by the user: keep what arrived so the next run continues from here.
        for job in _active(jobs):
            job.error = "interrupted"
        _save_unfinished(archive, ses, jobs)
        raise
    _save_unfinished(archive, ses, jobs)
    for job in jobs:
        if job.error is not None and not job.finished:
            results += [_failed(f, job.error) for f in job.files]
    return results


def _save_unfinished(archive: Archive, ses: lt.session, jobs: list[_Job]) -> None:
    for job in jobs:
        if job.error is not None and not job.finished:
            job.handle.save_resume_data(_SAVE_FLAGS)
            _drain_resume(archive, ses, job)


def _drain_resume(archive: Archive, ses: lt.session, job: _Job) -> None:
    """Wait briefly for the resume data of a failed torrent so the next run continues from it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ses.wait_for_alert(200)
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.save_resume_data_alert) and alert.handle == job.handle:
                atomic_write_bytes(
                    resume_path(archive, job.btih), lt.write_resume_data_buf(alert.params)
                )
                return
            if isinstance(alert, lt.save_resume_data_failed_alert):
                return
