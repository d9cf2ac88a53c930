"""Command line: parses arguments and calls one public function per command (see DESIGN.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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

# ---------------------------------------------------------------- serve

# ---------------------------------------------------------------- demo


def main() -> None:
    """Console-script entry point."""
    app()
