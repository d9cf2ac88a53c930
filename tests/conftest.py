"""Shared fixtures: a fresh archive, an in-process CLI runner, and real-tool requirements."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

from musark.archive import Archive, init_archive
from musark.cli import app

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def missing(msg: str) -> NoReturn:
    """Skip the test locally, but FAIL it under CI=true: CI installs everything tests need."""
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


def require_tool(name: str) -> str:
    """Return the path of an executable; skip locally, but FAIL under CI=true, when it is missing."""
    path = shutil.which(name)
    if path is None:
        missing(
            f"required tool {name!r} is not installed (install it via .ci/run's Debian packages)"
        )
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    """An initialised, empty archive in a temporary directory."""
    arc = Archive(tmp_path / "archive")
    init_archive(arc)
    return arc


class Cli:
    """Runs musark commands in-process through Typer's runner."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True) -> str:
        result = self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"musark {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}"
            )
        self.last = result
        return result.stdout

    def json(self, *args: str) -> dict:
        """Run a command with --json and parse its stdout."""
        return json.loads(self(*args, "--json"))


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save screenshots and reports for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
