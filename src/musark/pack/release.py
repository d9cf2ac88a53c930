"""``musark release``: freeze batches, make them BagIt bags and torrents, publish the index."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from musark.archive import Archive
from musark.catalog.schema import connect
from musark.console import progress
from musark.fsio import atomic_write_bytes, remove_stale_temps
from musark.ids import check_id
from musark.pack import bagit, torrents_json
from musark.pack.album_art import collect_album_art
from musark.pack.build import Built, build_torrent, layout_of_torrent, read_torrent
from musark.pack.layout import FORMATS, Entry, path_key
from musark.pack.piece_size import parse_piece_size
from musark.pack.torrent import Options

# Release's own catalogue table: every released file's index in its torrent, so the index writer
# never re-reads 60,000-file torrents (the torrent stays the source; this is a cache of it).
RELEASE_FILES_DDL = """
    CREATE TABLE IF NOT EXISTS release_files (
        batch VARCHAR NOT NULL,
        path VARCHAR NOT NULL,          -- inside the torrent, e.g. 'data/<track_id>.<ext>'
        file_index BIGINT NOT NULL      -- BEP 53 so= index (pad files counted)
    )"""


class ReleaseError(ValueError):
    """A release that cannot go ahead; the message names the batch or file and the reason."""


@dataclass
class ReleaseResult:
    """What one ``musark release`` run did."""

    released: list[str] = field(default_factory=list)  # batches frozen by this run
    unchanged: list[str] = field(default_factory=list)  # re-released, byte-identical no-ops
    torrents: list[dict[str, Any]] = field(default_factory=list)  # entries built this run
    warnings: list[str] = field(default_factory=list)
    index: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "released": self.released,
            "unchanged": self.unchanged,
            "torrents": self.torrents,
            "warnings": self.warnings,
            "index": self.index,
        }


def _now() -> datetime:
    # SOURCE_DATE_EPOCH (reproducible-builds convention) pins the release time across machines.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    ts = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return ts.replace(microsecond=0, tzinfo=None)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless ``path`` already holds exactly it; True when written."""
    if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True


def select_batches(
    con: duckdb.DuckDBPyConnection, names: list[str] | None, next_n: int, order: str
) -> list[str]:
    """The batches to release: ``names`` as given, else the next ``next_n`` ready unreleased ones."""
    pending = dict(
        con.execute(
            "SELECT batch, count(*) FROM track_files WHERE status IN ('planned', 'failed') "
            "AND batch IS NOT NULL "
            "GROUP BY batch"
        ).fetchall()
    )
    if names:
        known = {r[0] for r in con.execute("SELECT name FROM batches").fetchall()}
        for n in names:
            check_id(n, "batch name")
            if n not in known:
                raise ReleaseError(f"batch {n!r}: no such batch in the catalogue")
            if pending.get(n):
                raise ReleaseError(
                    f"batch {n!r}: {pending[n]} files are not processed yet (planned or failed); "
                    "run `musark process`"
                )
        return list(dict.fromkeys(names))
    orders = {
        "popularity": "popularity_max DESC NULLS LAST, popularity_min DESC NULLS LAST, tier, seq",
        "name": "tier, seq, name",
    }
    if order not in orders:
        raise ReleaseError(f"[release] order = {order!r}: choose one of {', '.join(orders)}")
    rows = con.execute(
        f"SELECT name FROM batches WHERE status <> 'released' ORDER BY {orders[order]}, name"
    ).fetchall()
    return [r[0] for r in rows if not pending.get(r[0])][:next_n]


@dataclass
class _BatchFiles:
    rows: list[tuple]  # (track_id, ext, size, sha256, patch_size) of the 'done' files
    data: list[Entry]
    patches: list[Entry]


def batch_files(archive: Archive, con: duckdb.DuckDBPyConnection, batch: str) -> _BatchFiles:
    """The 'done' files and patches of ``batch``, checked on disk; raise naming what is wrong."""
    rows = con.execute(
        "SELECT track_id, ext, size, sha256, patch_size FROM track_files "
        "WHERE batch = ? AND status = 'done' ORDER BY track_id",
        [batch],
    ).fetchall()
    if not rows:
        raise ReleaseError(f"batch {batch}: no files with status 'done' to release")
    # plain strings: pathlib costs more than the hashing of a small file at 60,000 files
    data_dir = str(archive.batch_data_dir(batch))
    patch_dir = str(archive.patches_dir / batch)
    for tid, ext, *_ in rows:
        check_id(tid, "track id")
        if not ext or not ext.isalnum():
            raise ReleaseError(f"batch {batch}: track {tid} has no valid file extension ({ext!r})")
    data = [
        Entry(f"data/{tid}.{ext}", size, os.path.join(data_dir, f"{tid}.{ext}"))
        for tid, ext, size, *_ in rows
    ]
    patches = [
        Entry(f"{tid}.zstdpatch", psize, os.path.join(patch_dir, f"{tid}.zstdpatch"))
        for tid, _, _, _, psize in rows
        if psize is not None
    ]
    for e in data + patches:
        try:
            size = os.stat(e.source).st_size  # type: ignore[arg-type]
        except FileNotFoundError:
            raise ReleaseError(f"batch {batch}: {e.source} is missing") from None
        if size != e.size:
            raise ReleaseError(
                f"batch {batch}: {e.source} is {size} bytes, the catalogue records {e.size}"
            )
    return _BatchFiles(rows, data, patches)


@dataclass
class _Ctx:
    archive: Archive
    fmt: str
    piece_size: int | None
    options: Options
    group: str
    advance: Callable[[int], None]
    result: ReleaseResult
    explicit: frozenset[str] = frozenset()  # options given on this run's command line


def _settings_for(
    ctx: _Ctx, torrent: Path, frozen: bool, released_at: datetime
) -> tuple[str, int | None, Options]:
    """Format, piece size and options for one torrent: a frozen torrent keeps its own unless
    this run names them explicitly (then a difference is refused as a change)."""
    fmt, psize, options = ctx.fmt, ctx.piece_size, _options_for(ctx, released_at)
    if frozen and torrent.exists():
        data = torrent.read_bytes()
        meta = read_torrent(data)
        _, layout = layout_of_torrent(data)
        if "format" not in ctx.explicit:
            fmt = layout.fmt
        if "piece_size" not in ctx.explicit:
            psize = layout.piece_size
        trackers = options.trackers
        web_seeds = options.web_seeds
        if "trackers" not in ctx.explicit:
            trackers = tuple(t[0].decode() for t in meta.get(b"announce-list", []))
        if "web_seeds" not in ctx.explicit:
            web_seeds = tuple(w.decode() for w in meta.get(b"url-list", []))
        stamp = meta.get(b"creation date")
        options = Options(trackers, web_seeds, stamp)
    return fmt, psize, options


def _refuse_changes(old_data: bytes, built_files: list[Entry], what: str) -> None:
    """Raise when a frozen torrent's file list differs from what would be released now."""
    _, old = layout_of_torrent(old_data)
    before = {(e.path, e.size) for e in old.files}
    now = {(e.path, e.size) for e in built_files}
    if before != now:
        added = sorted(now - before)[:5]
        removed = sorted(before - now)[:5]
        raise ReleaseError(
            f"{what} is released and frozen; its files would change "
            f"(added {added}, removed {removed}); put new material in a new batch"
        )


def _publish(built: Built, torrent: Path, frozen: bool, what: str) -> bool:
    """Write ``built`` unless a frozen torrent exists: identical → no-op, different → error."""
    if frozen and torrent.exists():
        if torrent.read_bytes() != built.data:
            raise ReleaseError(
                f"{what} is released and frozen, and releasing it again would change its torrent "
                f"({torrent}): same files but different bytes or options (format, piece size, "
                "trackers, web seeds); a released batch never changes"
            )
        return False
    write_if_changed(torrent, built.data)
    return True


def _release_batch(
    ctx: _Ctx, con: duckdb.DuckDBPyConnection, row: tuple, files_: _BatchFiles, frozen: bool
) -> None:
    name, tier, pop_min, pop_max, released_at = row
    arc = ctx.archive
    rows, data = files_.rows, files_.data
    recorded = {f"data/{tid}.{ext}": sha for tid, ext, _, sha, _ in rows if sha}
    head = {
        "bag-info.txt": bagit.bag_info(
            group=ctx.group,
            external_id=name,
            bagging_date=released_at.date().isoformat(),
            payload_bytes=sum(e.size for e in data),
            payload_files=len(data),
        ).encode("utf-8"),
        "bagit.txt": bagit.BAGIT_TXT.encode("utf-8"),
    }
    paths = sorted((e.path for e in data), key=path_key)
    tails = [
        Entry(bagit.MANIFEST, bagit.manifest_size(paths)),
        Entry(bagit.TAGMANIFEST, bagit.tagmanifest_size()),
    ]
    files = data + [Entry(p, len(b)) for p, b in head.items()] + tails
    torrent = arc.torrents_dir / f"{name}.torrent"
    what = f"batch {name}"
    if frozen and torrent.exists():
        _refuse_changes(torrent.read_bytes(), files, what)

    def late(sha: dict[str, str]) -> dict[str, bytes]:
        digests = {**recorded, **sha}
        text = bagit.manifest((p, digests[p]) for p in paths).encode("utf-8")
        return bagit.tag_files(head, text)

    fmt, psize, options = _settings_for(ctx, torrent, frozen, released_at)
    built = build_torrent(
        name,
        files,
        fmt=fmt,
        piece_size=psize,
        options=options,
        contents=head,
        late=late,
        sha256_paths={p for p in paths if p not in recorded},
        advance=ctx.advance,
    )
    if built.warning:
        ctx.result.warnings.append(built.warning)
    # The torrent first: a frozen batch whose torrent would change is refused before any write.
    if not _publish(built, torrent, frozen, what):
        ctx.result.unchanged.append(name)
    for p, b in {**head, **late(built.digests.sha256)}.items():
        write_if_changed(arc.batch_dir(name) / p, b)
    _record_sha256(con, built.digests.sha256, name)
    _record_file_index(con, name, built.layout.file_indices())

    def listed(b: Built, entry: str, group: str, display: str, path: Path, opts: Options) -> None:
        ctx.result.torrents.append(
            torrents_json.make_entry(
                b,
                name=entry,
                group=group,
                display_name=display,
                torrent_path=f"torrents/{path.name}",
                added_at=released_at,
                options=opts,
                tier=tier,
                popularity_min=pop_min,
                popularity_max=pop_max,
            )
        )

    listed(
        built, name, "batches", f"{ctx.group} batch {name} ({len(data)} files)", torrent, options
    )
    patches = files_.patches
    if patches:
        ptorrent = arc.torrents_dir / f"patches__{name}.torrent"
        pwhat = f"patch torrent of batch {name}"
        if frozen and ptorrent.exists():
            _refuse_changes(ptorrent.read_bytes(), patches, pwhat)
        pfmt, ppsize, poptions = _settings_for(ctx, ptorrent, frozen, released_at)
        pbuilt = build_torrent(name, patches, fmt=pfmt, piece_size=ppsize, options=poptions)
        if pbuilt.warning:
            ctx.result.warnings.append(pbuilt.warning)
        _publish(pbuilt, ptorrent, frozen, pwhat)
        display = f"{ctx.group} reconstruction patches of {name} ({len(patches)} files)"
        listed(pbuilt, f"patches__{name}", "patches", display, ptorrent, poptions)


def _options_for(ctx: _Ctx, released_at: datetime) -> Options:
    if ctx.options.creation_date is None:
        return ctx.options
    stamp = int(released_at.replace(tzinfo=UTC).timestamp())
    return Options(ctx.options.trackers, ctx.options.web_seeds, stamp)


def _record_sha256(con: duckdb.DuckDBPyConnection, sha: dict[str, str], batch: str) -> None:
    """Store SHA-256s computed here so no later stage computes them again."""
    if not sha:
        return
    ids = [p.removeprefix("data/").rsplit(".", 1)[0] for p in sha]
    computed = pa.table({"track_id": ids, "sha256": list(sha.values())})  # noqa: F841
    con.execute(
        "UPDATE track_files SET sha256 = computed.sha256 FROM computed "
        "WHERE track_files.track_id = computed.track_id AND track_files.batch = ? "
        "AND track_files.sha256 IS NULL",
        [batch],
    )


def _record_file_index(con: duckdb.DuckDBPyConnection, batch: str, indices: dict[str, int]) -> None:
    """Replace ``batch``'s rows of release_files (one vectorised insert)."""
    rows = pa.table(  # noqa: F841
        {
            "batch": pa.array([batch] * len(indices), pa.string()),
            "path": pa.array(list(indices), pa.string()),
            "file_index": pa.array(list(indices.values()), pa.int64()),
        }
    )
    con.execute("DELETE FROM release_files WHERE batch = ?", [batch])
    con.execute("INSERT INTO release_files SELECT batch, path, file_index FROM rows")


def _metadata_torrent(
    ctx: _Ctx, name: str, group: str, display: str, files: list[Entry], added_at: datetime
) -> dict[str, Any]:
    built = build_torrent(name, files, fmt=ctx.fmt, piece_size=ctx.piece_size, options=ctx.options)
    if built.warning:
        ctx.result.warnings.append(built.warning)
    torrent = ctx.archive.torrents_dir / f"{name}__{built.btih[:8]}.torrent"
    write_if_changed(torrent, built.data)
    entry = torrents_json.make_entry(
        built,
        name=name,
        group=group,
        display_name=display,
        torrent_path=f"torrents/{torrent.name}",
        added_at=added_at,
        options=ctx.options,
    )
    ctx.result.torrents.append(entry)
    return entry


def release(
    archive: Archive,
    *,
    batches: list[str] | None = None,
    next_n: int | None = None,
    fmt: str | None = None,
    piece_size: str | None = None,
    trackers: list[str] | None = None,
    web_seeds: list[str] | None = None,
    show_progress: bool | None = None,
) -> ReleaseResult:
    """Freeze and publish batches, then rebuild album art, the metadata index and torrents.json."""
    from musark.index.writer import write_index

    if not archive.catalog_db.exists():
        raise ReleaseError(f"{archive.catalog_db}: no catalogue here; nothing to release")
    settings = archive.settings.section("release")
    fmt_arg = fmt
    fmt = fmt or settings.get("format", "v1")
    if fmt not in FORMATS:
        raise ReleaseError(f"torrent format {fmt!r}: choose one of {', '.join(FORMATS)}")
    try:
        psize = parse_piece_size(piece_size or str(settings.get("piece_size", "auto")))
    except ValueError as exc:
        raise ReleaseError(str(exc)) from None
    options = Options(
        tuple(trackers if trackers else settings.get("trackers", [])),
        tuple(web_seeds if web_seeds else settings.get("web_seeds", [])),
        0 if settings.get("creation_date") else None,
    )
    group = archive.settings.section("archive").get("name", "musark")
    result = ReleaseResult()
    remove_stale_temps(archive.release_dir)
    con = connect(archive.catalog_db)
    con.execute(RELEASE_FILES_DDL)
    try:
        names = select_batches(
            con,
            batches,
            next_n if next_n is not None else int(settings.get("next", 1)),
            settings.get("order", "popularity"),
        )
        # a batch frozen by a run killed before it wrote torrents.json: finish publishing it
        listed = {
            e["name"] for e in torrents_json.load(archive.torrents_json) if e["group"] == "batches"
        }
        unfinished = [
            r[0]
            for r in con.execute(
                "SELECT name FROM batches WHERE status = 'released' ORDER BY name"
            ).fetchall()
            if r[0] not in listed and r[0] not in names
        ]
        names = unfinished + names
        # every file is where the catalogue says before anything is frozen
        checked = {n: batch_files(archive, con, n) for n in names}
        frozen = {
            r[0]
            for r in con.execute(
                "SELECT name FROM batches WHERE status = 'released' AND list_contains(?, name)",
                [names],
            ).fetchall()
        }
        now = _now()
        con.execute(
            "UPDATE batches SET status = 'released', released_at = coalesce(released_at, ?) "
            "WHERE list_contains(?, name) AND status <> 'released'",
            [now, names],
        )
        result.released = [n for n in names if n not in frozen]
        rows = {
            r[0]: r
            for r in con.execute(
                "SELECT name, tier, popularity_min, popularity_max, released_at FROM batches "
                "WHERE list_contains(?, name)",
                [names],
            ).fetchall()
        }
        total = con.execute(
            "SELECT coalesce(sum(size), 0) FROM track_files WHERE status = 'done' "
            "AND list_contains(?, batch)",
            [names],
        ).fetchone()[0]
        with progress(
            transfer=True, disable=None if show_progress is None else not show_progress
        ) as bar:
            task = bar.add_task("hashing", total=int(total))
            given = {
                "format": fmt_arg,
                "piece_size": piece_size,
                "trackers": trackers,
                "web_seeds": web_seeds,
            }
            ctx = _Ctx(
                archive,
                fmt,
                psize,
                options,
                group,
                lambda n: bar.advance(task, n),
                result,
                frozenset(k for k, v in given.items() if v),
            )
            for n in names:
                remove_stale_temps(archive.batch_dir(n))
                _release_batch(ctx, con, rows[n], checked[n], n in frozen)
        entries = torrents_json.merge(torrents_json.load(archive.torrents_json), result.torrents)
        released_at = con.execute(
            "SELECT max(released_at) FROM batches WHERE status = 'released'"
        ).fetchone()[0]
        if released_at is None:
            raise ReleaseError("no batch has been released yet; nothing to publish")
        art = collect_album_art(archive, con)
        if art.files:
            art_entry = _metadata_torrent(
                ctx,
                "album_art",
                "album_art",
                f"{group} album art ({len(art.files)} images)",
                art.files,
                released_at,
            )
            entries = torrents_json.merge(entries, [art_entry])
        live = [e for e in entries if not e["obsolete"]]
        write_index(
            archive, con, live, art.rows, meta={"archive": group, "released_at": str(released_at)}
        )
        result.index = str(archive.index_zst)
        index_entry = _metadata_torrent(
            ctx,
            "index",
            "metadata",
            f"{group} metadata index",
            [Entry(archive.index_zst.name, archive.index_zst.stat().st_size, archive.index_zst)],
            released_at,
        )
        entries = torrents_json.merge(entries, [index_entry])
        torrents_json.save(archive.torrents_json, entries)
    finally:
        con.close()
    return result
