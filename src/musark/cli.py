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

# ---------------------------------------------------------------- mirror

# ---------------------------------------------------------------- serve

# ---------------------------------------------------------------- demo


def main() -> None:
    """Console-script entry point."""
    app()
