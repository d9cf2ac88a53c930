"""The archive layout and settings every stage relies on."""

from __future__ import annotations

import tomllib

import pytest

from musark.archive import Archive, resolve_archive
from musark.config import DEFAULT_TOML, load_settings
from musark.fsio import atomic_write_bytes, remove_stale_temps
from musark.ids import InvalidIdError, check_id, is_valid_id


def test_init_creates_design_layout_and_commented_settings(tmp_path, cli):
    root = tmp_path / "arc"
    report = cli.json("init", "--archive", root)
    for sub in ("files", "patches", "release/torrents", "release/index", "search"):
        assert (root / sub).is_dir(), sub
    text = (root / "musark.toml").read_text()
    assert text == DEFAULT_TOML and text.lstrip().startswith("#")
    assert tomllib.loads(text)["plan"]["batch_size"] == 60000
    assert str(root / "musark.toml") in report["created"]
    # idempotent: nothing new the second time
    assert cli.json("init", "--archive", root)["created"] == []


def test_archive_option_falls_back_to_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSARK_ARCHIVE", str(tmp_path / "envarc"))
    assert resolve_archive(None).root == (tmp_path / "envarc").resolve()
    monkeypatch.delenv("MUSARK_ARCHIVE")
    monkeypatch.chdir(tmp_path)
    assert resolve_archive(None).root == (tmp_path / "archive").resolve()


def test_user_settings_override_defaults(tmp_path):
    cfg = tmp_path / "musark.toml"
    cfg.write_text("[plan]\nbatch_size = 500\n")
    s = load_settings(cfg)
    assert s["plan"]["batch_size"] == 500
    assert s["plan"]["tiers"][0]["name"] == "keep"  # untouched defaults survive the merge
    cfg.write_text("[plan\n")
    with pytest.raises(ValueError, match="invalid TOML"):
        load_settings(cfg)


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", "x" * 65, "é", "a b", None, 5])
def test_ids_that_could_escape_a_path_are_refused(bad):
    assert not is_valid_id(bad)
    with pytest.raises(InvalidIdError, match="invalid track id"):
        check_id(bad, "track id")


def test_track_paths_validate_ids(archive: Archive):
    assert archive.track_path("keep__0001", "abc_DEF-1", "ogg").name == "abc_DEF-1.ogg"
    with pytest.raises(InvalidIdError):
        archive.track_path("keep__0001", "../../x", "ogg")


def test_atomic_write_leaves_no_temp_and_cleans_stale_ones(tmp_path):
    target = tmp_path / "d" / "f.bin"
    atomic_write_bytes(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]
    (target.parent / ".musark-tmp-abc.bin").write_bytes(b"half")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]
