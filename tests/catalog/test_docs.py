"""docs/catalog.md documents every catalogue command, reject reason and setting."""

from __future__ import annotations

from pathlib import Path

from musark.catalog.validate import REASONS
from musark.config import default_settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text(encoding="utf-8")


def test_every_command_has_a_real_example():
    for cmd in ("musark ingest", "musark stats", "musark synth catalog"):
        assert f"$ {cmd}" in DOC, cmd


def test_every_reject_reason_and_setting_is_documented():
    for reason in REASONS:
        assert f"`{reason}`" in DOC, reason
    for key in default_settings().section("catalog"):
        assert f"`{key}`" in DOC, key
