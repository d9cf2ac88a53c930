"""AtomicBatch: files written together appear together, synced, or not at all."""

from __future__ import annotations

import pytest

from musark.fsio import TMP_PREFIX, AtomicBatch


def test_batch_files_appear_only_when_it_commits(tmp_path):
    a, b = tmp_path / "x" / "a.ogg", tmp_path / "y" / "b.zstdpatch"
    with AtomicBatch() as batch:
        batch.write(a, b"first")
        batch.write(b, b"second", mode=0o600)
        assert not a.exists() and not b.exists()
        assert len(list(tmp_path.rglob(f"{TMP_PREFIX}*"))) == 2
    assert a.read_bytes() == b"first" and b.read_bytes() == b"second"
    assert b.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.rglob(f"{TMP_PREFIX}*"))


def test_an_error_inside_the_batch_leaves_no_file_and_no_temporary(tmp_path):
    (tmp_path / "kept").write_bytes(b"old")
    with pytest.raises(RuntimeError), AtomicBatch() as batch:
        batch.write(tmp_path / "new", b"new")
        batch.write(tmp_path / "kept", b"replacement")
        raise RuntimeError("the next track failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    assert (tmp_path / "kept").read_bytes() == b"old"


def test_rewriting_a_file_replaces_it_whole(tmp_path):
    target = tmp_path / "t.bin"
    for data in (b"a" * 100_000, b"b" * 10):
        with AtomicBatch() as batch:
            batch.write(target, data)
        assert target.read_bytes() == data
