"""Fixtures: one released archive and one loopback seeder per session, a fresh empty mirror per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from musark.archive import Archive
from tests.mirror.released import Released, Seeder, build_released, make_mirror


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    """Three released batches of eight generated tracks each."""
    return build_released(tmp_path_factory.mktemp("released") / "archive")


@pytest.fixture(scope="session")
def seeder(released: Released, tmp_path_factory: pytest.TempPathFactory):
    """A libtorrent session on 127.0.0.1 seeding every batch."""
    s = Seeder(released, tmp_path_factory.mktemp("seeder"))
    yield s
    s.close()


@pytest.fixture
def mirror(released: Released, tmp_path: Path) -> Archive:
    """An empty mirror: release/ copied from the archive, no batch folders."""
    return make_mirror(released, tmp_path / "mirror")
