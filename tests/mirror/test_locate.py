"""musark locate: where a track's file is, and a magnet that selects only it (BEP 53 so=)."""

from __future__ import annotations

from musark.archive import Archive
from tests.mirror.released import Released


def test_locate_by_isrc_gives_batch_index_digest_and_magnet(
    released: Released, mirror: Archive, cli
):
    t = released.by_batch("keep__0002")[3]
    out = cli.json("locate", t.isrc, "--archive", mirror.root)
    assert out["kind"] == "isrc" and out["count"] == 1
    hit = out["hits"][0]
    assert (hit["track_id"], hit["batch"], hit["path"]) == (t.id, t.batch, t.path)
    assert (hit["file_index"], hit["size"], hit["sha256"]) == (t.file_index, t.size, t.sha256)
    assert hit["file_magnet"].startswith("magnet:?xt=urn:btih:")
    assert hit["file_magnet"].endswith(f"&so={t.file_index}")
    assert hit["present"] is False


def test_locate_text_and_human_output(released: Released, mirror: Archive, cli):
    t = released.tracks[-1]
    text = cli("locate", f"{t.artist} - {t.title}", "--archive", mirror.root)
    assert t.id in text and f"so={t.file_index}" in text and t.sha256 in text


def test_locate_unknown_exits_non_zero(mirror: Archive, cli):
    cli("locate", "zz-no-such-track-zz", "--archive", mirror.root, ok=False)
    assert cli.last.exit_code == 1


def test_a_folder_without_published_index_is_a_clear_error(tmp_path, cli):
    cli("locate", "tr0001", "--archive", tmp_path, ok=False)
    assert cli.last.exit_code == 2
    assert "musark_index.sqlite3.zst" in cli.last.stderr


def test_a_malformed_peer_is_a_clear_error(mirror: Archive, cli):
    cli("fetch", "tr0001", "--peer", "localhost", "--archive", mirror.root, ok=False)
    assert cli.last.exit_code == 2
    assert "invalid peer 'localhost'" in cli.last.stderr
