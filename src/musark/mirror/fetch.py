"""``musark fetch``: resolve queries (id, ISRC, UPC, 'artist - title') and download what is not here yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musark.archive import Archive
from musark.index.open import open_index
from musark.index.query import IndexedFile, TrackHit, find_tracks
from musark.index.textsearch import TextSearch
from musark.mirror.download import FileResult, download_files
from musark.mirror.hashing import hash_many
from musark.mirror.session import parse_peer


@dataclass
class FetchReport:
    """Outcome of ``musark fetch``."""

    resolved: list[dict[str, Any]]
    not_found: list[str]
    not_archived: list[str]
    files: list[FileResult]
    torrents: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """True when every query resolved and every file is in the mirror, verified."""
        return (
            not self.not_found
            and not self.not_archived
            and all(f.status != "failed" for f in self.files)
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        return {
            "ok": self.ok,
            "counts": counts,
            "resolved": self.resolved,
            "not_found": self.not_found,
            "not_archived": self.not_archived,
            "files": [f.as_dict() for f in self.files],
            "torrents": self.torrents,
        }


def read_query_file(path: Path) -> list[str]:
    """Queries from a playlist/list file: one per line; blank lines and ``#`` comments skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [s for line in lines if (s := line.strip()) and not s.startswith("#")]


def _pick(kind: str, hits: list[TrackHit]) -> list[TrackHit]:
    archived = [h for h in hits if h.archived]
    if kind == "upc":
        return archived
    # An ISRC may name several catalogue tracks and free text many: fetch the best archived one.
    return archived[:1]


def fetch(
    archive: Archive,
    queries: Sequence[str],
    *,
    from_file: Path | None = None,
    peers: Sequence[str] = (),
    listen: str | None = None,
    stall_timeout: float | None = None,
    show_progress: bool | None = None,
) -> FetchReport:
    """Resolve queries (id, ISRC, UPC, 'artist - title') and download the files not yet verified here."""
    wanted = list(queries) + (read_query_file(from_file) if from_file else [])
    for p in peers:
        parse_peer(p)
    con = open_index(archive)
    search = TextSearch(archive)
    resolved, not_found, not_archived = [], [], []
    todo: dict[str, IndexedFile] = {}
    try:
        for q in wanted:
            kind, hits = find_tracks(con, q, search, limit=5)
            picked = _pick(kind, hits)
            if not hits:
                not_found.append(q)
            elif not picked:
                not_archived.append(q)
            for h in picked:
                resolved.append({"query": q, "kind": kind, "track_id": h.track_id})
                todo[h.track_id] = h.indexed_file()
    finally:
        con.close()
    # Files already here with the right size are hashed (in parallel) before anything is fetched.
    dests = {archive.batch_dir(f.batch) / f.path: f for f in todo.values()}
    candidates = [p for p, f in dests.items() if p.is_file() and p.stat().st_size == f.size]
    good = {p for p, _, digest, _ in hash_many(candidates) if digest == dests[p].sha256}
    files = [
        FileResult(f.track_id, f.batch, f.path, f.size, "present")
        for p, f in dests.items()
        if p in good
    ]
    need = [f for p, f in dests.items() if p not in good]
    got = download_files(
        archive,
        need,
        peers=peers,
        listen=listen,
        stall_timeout=stall_timeout,
        show_progress=show_progress,
    )
    files = sorted(files + got.files, key=lambda f: (f.batch, f.path))
    return FetchReport(resolved, not_found, not_archived, files, got.torrents)
