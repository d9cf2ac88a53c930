"""Command line: parses arguments and calls one public function per command (see DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from musark import __version__
from musark.archive import ARCHIVE_ENV, Archive, init_archive, resolve_archive
from musark.console import console, emit_json, out, print_kv, print_table

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


@app.command()
def process(
    source: Annotated[
        Path | None,
        typer.Option(
            help="Folder of source files named <track_id>.<ext> (else track_audio paths)."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Parallel workers (0 = every core).")] = 0,
    executor: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start a local Ray).")
    ] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Turn every planned track into its archived file (keep or Opus), tags, cover and patch."""
    from musark.console import print_kv
    from musark.media.process import process_archive

    report = process_archive(
        _archive(archive),
        source_dir=source,
        workers=workers or None,
        executor=executor,
        ray_address=ray_address,
        batch=batch,
    ).as_dict()
    if json:
        emit_json(report)
    else:
        lists = ("failures", "quarantined_examples")
        print_kv("process", {k: v for k, v in report.items() if k not in lists})
        for item in report["quarantined_examples"] + report["failures"]:
            out.print(f"{item['track_id']}: {item['error']}", soft_wrap=True)
    if report["failed"]:
        raise typer.Exit(1)


@app.command()
def restore(
    track_id: Annotated[str, typer.Argument(help="Track id of a keep-tier track.")],
    out_path: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the original.")],
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Rebuild the exact original file of a keep-tier track and check its SHA-256."""
    from musark.console import console
    from musark.media.restore import RestoreError, restore_track

    try:
        result = restore_track(_archive(archive), track_id, out_path)
    except RestoreError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    if json:
        emit_json(result)
    else:
        out.print(
            f"restored {result['track_id']} → {result['out']} (sha256 {result['sha256']})",
            soft_wrap=True,
        )


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

HostOpt = Annotated[
    str | None, typer.Option("--host", help="Address to bind (\\[serve] host, default 127.0.0.1).")
]
PortOpt = Annotated[int | None, typer.Option("--port", help="Port (\\[serve] port, default 4533).")]


@app.command()
def serve(
    archive: ArchiveOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    allow_plain: Annotated[
        bool | None,
        typer.Option(
            "--allow-plain/--no-allow-plain",
            help="Accept plain p= / enc: passwords (\\[serve] allow_plain_passwords).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the Subsonic/OpenSubsonic API and the web player over an archive or mirror."""
    from musark.serve.server import run_server

    run_server(_archive(archive), host=host, port=port, allow_plain=allow_plain)


@app.command("index")
def index_cmd(
    archive: ArchiveOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when current.")] = False,
    json: JsonOpt = False,
) -> None:
    """Build the server's library tables and full-text search index from the published index."""
    from musark.serve.indexing import build_index

    report = build_index(_archive(archive), force=force)
    if json:
        emit_json(report)
    else:
        print_kv("search index", report)


user_app = typer.Typer(help="Manage the users of `musark serve`.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _users(archive: Path | None):
    from musark.serve.users import UserStore

    return UserStore(_archive(archive))


def _user_error(fn):
    from musark.serve.users import UserError

    try:
        return fn()
    except UserError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


PasswordOpt = Annotated[
    str, typer.Option("--password", "-p", prompt=True, hide_input=True, help="The password.")
]


@user_app.command("add")
def user_add(
    name: str,
    password: PasswordOpt,
    admin: Annotated[bool, typer.Option("--admin", help="Give the admin role.")] = False,
    archive: ArchiveOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add a user (listener, or admin with --admin)."""
    user = _user_error(lambda: _users(archive).add(name, password, admin=admin))
    role = "admin" if user.admin else "listener"
    if json:
        emit_json({"user": user.name, "role": role})
    else:
        out.print(f"added user {user.name} ({role})")


@user_app.command("remove")
def user_remove(name: str, archive: ArchiveOpt = None, json: JsonOpt = False) -> None:
    """Remove a user and their API keys."""
    _user_error(lambda: _users(archive).remove(name))
    if json:
        emit_json({"removed": name})
    else:
        out.print(f"removed user {name}")


@user_app.command("passwd")
def user_passwd(
    name: str, password: PasswordOpt, archive: ArchiveOpt = None, json: JsonOpt = False
) -> None:
    """Change a user's password."""
    _user_error(lambda: _users(archive).set_password(name, password))
    if json:
        emit_json({"user": name, "password_changed": True})
    else:
        out.print(f"password of {name} changed")


@user_app.command("list")
def user_list(archive: ArchiveOpt = None, json: JsonOpt = False) -> None:
    """List users with their role and number of API keys."""
    users = _users(archive).list()
    if json:
        emit_json({"users": users})
    else:
        print_table("users", users, ["name", "role", "api_keys"])


@user_app.command("apikey")
def user_apikey(name: str, archive: ArchiveOpt = None, json: JsonOpt = False) -> None:
    """Create and print a new OpenSubsonic API key for a user (shown only once)."""
    key = _user_error(lambda: _users(archive).new_api_key(name))
    if json:
        emit_json({"user": name, "api_key": key})
    else:
        out.print(key)


# ---------------------------------------------------------------- demo


def main() -> None:
    """Console-script entry point."""
    app()
