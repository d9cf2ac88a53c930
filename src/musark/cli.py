"""Command line: parses arguments and calls one public function per command (see DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from musark import __version__
from musark.archive import ARCHIVE_ENV, Archive, init_archive, resolve_archive
from musark.console import emit_json, out

app = typer.Typer(
    name="musark",
    help="Build, publish, mirror, verify and play an open music preservation archive.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ArchiveOpt = Annotated[
    Path | None,
    typer.Option(
        "--archive",
        "-a",
        envvar=ARCHIVE_ENV,
        help="Archive or mirror directory (default: $MUSARK_ARCHIVE, else ./archive).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def _archive(path: Path | None) -> Archive:
    return resolve_archive(path)


def _version(value: bool) -> None:
    if value:
        out.print(f"musark {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """musark: metadata dumps and audio you hold → a mirrored, verifiable, playable archive."""


# ---------------------------------------------------------------- archive


@app.command()
def init(archive: ArchiveOpt = None, json: JsonOpt = False) -> None:
    """Create an archive directory with the standard layout and a commented musark.toml."""
    arc = _archive(archive)
    created = init_archive(arc)
    if json:
        emit_json({"archive": str(arc.root), "created": [str(p) for p in created]})
    else:
        out.print(f"archive ready at {arc.root} ({len(created)} paths created)")


# ---------------------------------------------------------------- catalog

# ---------------------------------------------------------------- plan

# ---------------------------------------------------------------- media

# ---------------------------------------------------------------- release


@app.command("release")
def release_cmd(
    archive: ArchiveOpt = None,
    next_n: Annotated[
        int | None,
        typer.Option("--next", help="Release the next N unreleased batches ([release] next)."),
    ] = None,
    batch: Annotated[
        list[str] | None, typer.Option("--batch", help="Release this batch (repeatable).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="v1 (default), v2 or hybrid.")] = None,
    piece_size: Annotated[
        str | None, typer.Option("--piece-size", help="auto, or a power of two like 4MiB.")
    ] = None,
    tracker: Annotated[
        list[str] | None, typer.Option("--tracker", help="Announce URL (repeatable).")
    ] = None,
    web_seed: Annotated[
        list[str] | None, typer.Option("--web-seed", help="Web seed URL (repeatable).")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Freeze batches and publish them: BagIt bags, torrents, torrents.json, the metadata index."""
    from musark.console import console, print_table
    from musark.pack.release import ReleaseError, release

    try:
        result = release(
            _archive(archive),
            batches=batch or None,
            next_n=next_n,
            fmt=fmt,
            piece_size=piece_size,
            trackers=tracker or None,
            web_seeds=web_seed or None,
        )
    except (ReleaseError, FileNotFoundError) as exc:
        console.print(f"[red]release failed:[/red] {exc}")
        raise typer.Exit(1) from None
    if json:
        emit_json(result.as_dict())
        return
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    print_table(
        "torrents",
        result.torrents,
        ["name", "group", "num_files", "data_size", "torrent_size", "btih"],
    )
    out.print(
        f"released {len(result.released)} batch(es), {len(result.unchanged)} unchanged; "
        f"index {result.index}"
    )


# ---------------------------------------------------------------- mirror


_MIRROR_ERRORS = (ValueError, LookupError, OSError, RuntimeError)


def _mirror_report(
    command: str, run: Callable[[], Any], show: Callable[[Any], None], json: bool
) -> None:
    """Run a mirror command: report as JSON or text; exit 1 on findings, 2 when it could not run."""
    try:
        report = run()
    except _MIRROR_ERRORS as exc:
        typer.echo(f"musark {command}: error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if json:
        emit_json(report.as_dict())
    else:
        show(report)
    if not report.ok:
        raise typer.Exit(1)


PeerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--peer",
        help="Connect to this peer (HOST:PORT, repeatable); switches DHT/LSD/UPnP/NAT-PMP off.",
    ),
]
ListenOpt = Annotated[
    str | None,
    typer.Option("--listen", help="libtorrent listen_interfaces (default: [mirror] setting)."),
]


@app.command()
def locate(
    query: Annotated[str, typer.Argument(help="Track id, ISRC, UPC or 'artist - title'.")],
    limit: Annotated[int, typer.Option(help="Most free-text hits to show.")] = 20,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Find tracks in the published index: batch, torrent, file index, size, sha256, magnet."""
    from musark.mirror.display import print_locate
    from musark.mirror.locate import locate as run

    _mirror_report("locate", lambda: run(_archive(archive), query, limit=limit), print_locate, json)


@app.command()
def fetch(
    queries: Annotated[
        list[str] | None, typer.Argument(help="Track ids, ISRCs, UPCs or 'artist - title'.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="File with one query per line (# comments allowed)."),
    ] = None,
    peer: PeerOpt = None,
    listen: ListenOpt = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Give up after this many seconds without data (default: setting)."),
    ] = None,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Download only the selected files from the swarm, verify them, add them to the mirror."""
    from musark.mirror.display import print_fetch
    from musark.mirror.fetch import fetch as run

    if not queries and from_file is None:
        raise typer.BadParameter("give at least one QUERY or --from-file")
    _mirror_report(
        "fetch",
        lambda: run(
            _archive(archive),
            queries or [],
            from_file=from_file,
            peers=peer or [],
            listen=listen,
            stall_timeout=timeout,
        ),
        print_fetch,
        json,
    )


@app.command()
def verify(
    repair: Annotated[
        bool, typer.Option("--repair", help="Re-fetch corrupt and lost files from the swarm.")
    ] = False,
    since: Annotated[
        float | None,
        typer.Option("--since", help="Skip files verified OK within this many days (unchanged)."),
    ] = None,
    peer: PeerOpt = None,
    listen: ListenOpt = None,
    threads: Annotated[int, typer.Option(help="Hashing threads (0 = one per core).")] = 0,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Check size and SHA-256 of every mirrored file against the index; exit 1 on corruption."""
    from musark.mirror.display import print_verify
    from musark.mirror.verify import verify as run

    _mirror_report(
        "verify",
        lambda: run(
            _archive(archive),
            since_days=since,
            repair=repair,
            peers=peer or [],
            listen=listen,
            threads=threads,
        ),
        print_verify,
        json,
    )


# ---------------------------------------------------------------- serve

# ---------------------------------------------------------------- demo


def main() -> None:
    """Console-script entry point."""
    app()
