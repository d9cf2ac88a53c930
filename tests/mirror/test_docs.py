"""docs/mirror.md documents every mirror command and each of its options."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from musark.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "mirror.md"


@pytest.mark.parametrize("name", ["locate", "fetch", "verify"])
def test_every_option_is_documented(name: str):
    text = DOC.read_text()
    assert f"## `musark {name}" in text
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in ("--archive", "--help"):
                assert opt in text, f"{opt} of musark {name} is not in {DOC.name}"
