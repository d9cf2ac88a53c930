"""The README documents every command, and its walkthrough runs verbatim, so neither can rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import typer.main

from musark.cli import app
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _command_paths(group: click.Group, prefix: str = "") -> list[str]:
    paths = []
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        paths.append(path)
        if isinstance(cmd, click.Group):
            paths.extend(_command_paths(cmd, f"{path} "))
    return paths


def test_every_command_is_documented_in_the_readme():
    paths = _command_paths(typer.main.get_command(app))
    assert {
        "init",
        "ingest",
        "plan",
        "process",
        "release",
        "fetch",
        "verify",
        "serve",
        "demo",
    } <= set(paths)
    missing = []
    for path in paths:
        *group, leaf = path.split()
        documented = f"musark {path}" in README or (
            group and f"musark {' '.join(group)}" in README and f"`{leaf}`" in README
        )
        if not documented:
            missing.append(path)
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_states_the_two_commands_first():
    two = README.index("## Two commands")
    assert README.index("make demo") > two and README.index("make test") > two
    assert two < README.index("## Pipeline") < README.index("## Walkthrough")


def walkthrough() -> str:
    """The shell block under '## Walkthrough'."""
    section = README[README.index("## Walkthrough") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "no ```sh block under ## Walkthrough"
    return match.group(1)


def test_readme_walkthrough_runs_verbatim(tmp_path):
    require_tool("sqlite3")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "musark"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m musark "$@"\n')
    wrapper.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("MUSARK_ARCHIVE", None)
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    arc = work / "archive"
    assert (work / "report" / "report.html").stat().st_size > 10_000
    assert (work / "original.ogg").stat().st_size > 0
    torrents = sorted(p.name for p in (arc / "release" / "torrents").glob("*.torrent"))
    assert torrents[1:] == [
        "keep__0001.torrent",
        "opus75__0001.torrent",
        "patches__keep__0001.torrent",
    ]
    assert re.fullmatch(r"index__\w+\.torrent", torrents[0])  # each index version keeps its own
    assert "16 ok, 0 missing, 0 corrupt" in " ".join(proc.stdout.split())
    # the last line is the API key `musark user apikey` printed
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", proc.stdout.strip().splitlines()[-1])
