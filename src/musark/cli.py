"""Command line: parses arguments and calls one public function per command (see DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable
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

synth_app = typer.Typer(help="Generate synthetic test inputs.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")


@app.command("ingest")
def ingest_cmd(
    sources: Annotated[
        list[Path],
        typer.Argument(help="Dumps (.jsonl[.zst|.gz], .sqlite, .csv, .parquet) or audio folders."),
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help="auto|jsonl|sqlite|csv|parquet|folder")
    ] = "auto",
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Validate and merge metadata dumps or tagged audio folders into the catalogue."""
    from musark.catalog.ingest import ingest
    from musark.catalog.report import print_ingest

    result = ingest(_archive(archive), sources, format)
    if json:
        emit_json(result)
    else:
        print_ingest(result)


@app.command("stats")
def stats_cmd(
    top: Annotated[int, typer.Option("--top", help="How many labels to list.")] = 10,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Counts and histograms of the catalogue (tracks, ISRCs, popularity, labels, rejects)."""
    from musark.catalog.report import print_stats
    from musark.catalog.stats import catalog_stats

    result = catalog_stats(_archive(archive), top_labels=top)
    if json:
        emit_json(result)
    else:
        print_stats(result)


@synth_app.command("catalog")
def synth_catalog_cmd(
    out_path: Annotated[Path, typer.Argument(help="Output .jsonl, .jsonl.zst or .jsonl.gz")],
    tracks: Annotated[int, typer.Option("--tracks", "-n", help="Number of lines.")] = 10000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    bad_rate: Annotated[
        float, typer.Option("--bad-rate", help="Fraction of malformed rows (0..1).")
    ] = 0.0,
    json: JsonOpt = False,
) -> None:
    """Write a synthetic catalogue dump with a realistic shape (deterministic per seed)."""
    from musark.catalog.synth import synth_catalog

    result = synth_catalog(out_path, tracks, seed=seed, bad_rate=bad_rate)
    if json:
        emit_json(result)
    else:
        out.print(f"wrote {result['tracks']} tracks to {result['path']}")


# ---------------------------------------------------------------- plan


def _plan_stage(
    cmd: str, call: Callable[[], dict], printer: Callable[[dict], None], json: bool
) -> None:
    """Run a plan-stage command: bad input is one clear line on stderr and exit status 1."""
    try:
        result = call()
    except (ValueError, FileNotFoundError) as exc:
        typer.echo(f"musark {cmd}: error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if json:
        emit_json(result)
    else:
        printer(result)


@app.command()
def plan(
    budget: Annotated[
        str | None,
        typer.Option(
            help="Byte budget of the whole archive, e.g. 300TB, 2.5TiB (decimal or binary)."
        ),
    ] = None,
    coverage: Annotated[
        float | None, typer.Option(help="Fewest bytes reaching this % of estimated listens.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Files per batch (default: musark.toml \\[plan] batch_size).")
    ] = None,
    exclude: Annotated[
        list[Path] | None,
        typer.Option(
            help="File of kind:value lines (track/isrc/artist/album/label) never to select."
        ),
    ] = None,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Choose what to preserve: tiers, ISRC dedup, exclusions, append-only popularity batches."""
    from musark.plan.cli_output import print_plan
    from musark.plan.planner import PlanRequest, run_plan
    from musark.plan.sizes import parse_size

    def call() -> dict:
        req = PlanRequest(
            budget_bytes=parse_size(budget) if budget is not None else None,
            coverage=coverage,
            batch_size=batch_size,
            exclude=list(exclude or []),
        )
        return run_plan(_archive(archive), req)

    _plan_stage("plan", call, print_plan, json)


@app.command()
def report(
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: ARCHIVE/release/report)."),
    ] = None,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Coverage curves, bytes per tier, popularity and ISRC histograms: PNGs, HTML and JSON."""
    from musark.plan.cli_output import print_report
    from musark.plan.report import run_report

    _plan_stage("report", lambda: run_report(_archive(archive), out_dir), print_report, json)


# ---------------------------------------------------------------- media

# ---------------------------------------------------------------- release

# ---------------------------------------------------------------- mirror

# ---------------------------------------------------------------- serve

# ---------------------------------------------------------------- demo


def main() -> None:
    """Console-script entry point."""
    app()
