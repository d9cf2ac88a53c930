"""Our torrents are the torrents libtorrent itself would make: same info-hashes, v2 roots, indices."""

from __future__ import annotations

import hashlib
import os
import warnings

import libtorrent as lt
import pytest

from musark.pack.bencode import bencode, count_tokens
from musark.pack.build import build_torrent, layout_of_torrent
from musark.pack.hashing import hash_layout
from musark.pack.layout import Entry, make_layout
from musark.pack.torrent import Options, build_metainfo, info_hashes, magnet_link

# libtorrent 2.1's Python API flags files()/file_storage as deprecated but offers no other
# reader for per-file v2 roots.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Sizes chosen to hit every edge: empty, one byte, exact block, exact piece, pieces spanning files.
SIZES = [0, 1, 16384, 32768, 32769, 50000, 70000, 100_003, 5]


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "b1"
    for i, n in enumerate(SIZES):
        p = root / ("data" if i % 2 else "data/sub") / f"f{i}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(n))
    (root / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\n")
    return root


def _entries(root):
    return [
        Entry(p.relative_to(root).as_posix(), p.stat().st_size, p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def _libtorrent_reference(root, layout, flags):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        fs = lt.file_storage()
        for e in layout.files:
            fs.add_file(f"{root.name}/{e.path}", e.size)
        ct = lt.create_torrent(fs, layout.piece_size, flags=flags)
        lt.set_piece_hashes(ct, str(root.parent))
        return lt.torrent_info(ct.generate())


FLAGS = {"v1": "v1_only", "v2": "v2_only", "hybrid": None}


@pytest.mark.parametrize("fmt", ["v1", "v2", "hybrid"])
@pytest.mark.parametrize("piece_size", [16384, 32768])
def test_same_info_hashes_and_file_indices_as_libtorrent(folder, fmt, piece_size):
    layout = make_layout(_entries(folder), fmt, piece_size)
    digests = hash_layout(layout, sha256_paths={e.path for e in layout.files})
    meta = build_metainfo(layout, digests, folder.name)
    flags = getattr(lt.create_torrent, FLAGS[fmt]) if FLAGS[fmt] else 0
    ref = _libtorrent_reference(folder, layout, flags)
    ours = lt.torrent_info(lt.bdecode(bencode(meta)))
    assert str(ours.info_hashes().v1) == str(ref.info_hashes().v1)
    assert str(ours.info_hashes().v2) == str(ref.info_hashes().v2)
    btih, btmh = info_hashes(meta)
    if fmt != "v2":
        assert btih == str(ref.info_hashes().v1)
    if fmt != "v1":
        assert btmh == "1220" + str(ref.info_hashes().v2)
    # the index we publish for BEP 53 so= is the one libtorrent uses (pads included)
    files = ours.files()
    for path, idx in layout.file_indices().items():
        assert files.file_path(idx) == f"{folder.name}/{path}"
    for e in layout.files:
        assert digests.sha256[e.path] == hashlib.sha256(e.source.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", ["v2", "hybrid"])
def test_v2_file_roots_match_what_libtorrent_loads(folder, fmt):
    built = build_torrent(
        folder.name, _entries(folder), fmt=fmt, piece_size=16384, options=Options()
    )
    ti = lt.torrent_info(lt.bdecode(built.data))
    files = ti.files()
    roots = {
        files.file_path(i).split("/", 1)[1]: bytes.fromhex(str(files.root(i)))
        for i in range(files.num_files())
        if not files.file_flags(i) & lt.file_storage.flag_pad_file and files.file_size(i)
    }
    assert roots == built.digests.roots
    assert len(built.digests.layers) == sum(1 for n in SIZES if n > 16384)
    _, layout = layout_of_torrent(built.data)
    assert layout.file_indices() == built.layout.file_indices()


@pytest.mark.parametrize("fmt", ["v1", "hybrid"])
@pytest.mark.parametrize("piece_size", [256 * 1024, 4 << 20])
def test_files_larger_than_a_hashing_chunk_match_libtorrent(tmp_path, fmt, piece_size):
    # pieces smaller and larger than 1 MiB, pieces spanning files, a file ending exactly on a
    # MiB boundary; two threads take the piece, leaf and file SHA-256 passes as separate jobs
    root = tmp_path / "big"
    for i, n in enumerate([3_000_001, 1 << 20, 2_500_000, 700_000, (1 << 20) + 16385]):
        p = root / "data" / f"f{i}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(n))
    layout = make_layout(_entries(root), fmt, piece_size)
    digests = hash_layout(layout, workers=2, sha256_paths={e.path for e in layout.files})
    ours = lt.torrent_info(lt.bdecode(bencode(build_metainfo(layout, digests, root.name))))
    flags = getattr(lt.create_torrent, FLAGS[fmt]) if FLAGS[fmt] else 0
    ref = _libtorrent_reference(root, layout, flags)
    assert str(ours.info_hashes().v1) == str(ref.info_hashes().v1)
    assert str(ours.info_hashes().v2) == str(ref.info_hashes().v2)
    for e in layout.files:
        assert digests.sha256[e.path] == hashlib.sha256(e.source.read_bytes()).hexdigest()


def test_one_thread_and_many_threads_give_identical_digests(folder):
    layout = make_layout(_entries(folder), "hybrid", 16384)
    one = hash_layout(layout, workers=1, sha256_paths={"bagit.txt"})
    many = hash_layout(layout, workers=8, sha256_paths={"bagit.txt"})
    assert one == many


def test_a_file_that_changed_size_is_named(folder):
    entries = _entries(folder)
    victim = next(e for e in entries if e.size > 100)
    victim.source.write_bytes(b"short")
    with pytest.raises(ValueError, match=victim.source.name):
        hash_layout(make_layout(entries, "v1", 16384))


def test_bencode_sorts_keys_as_bytes_and_counts_tokens():
    obj = {"b": [1, b"x"], "a": {"": 0}, "é": "z"}
    data = bencode(obj)
    assert data == b"d1:ad0:i0ee1:bli1e1:xe2:\xc3\xa91:ze"
    assert lt.bdecode(data) == {b"a": {b"": 0}, b"b": [1, b"x"], "é".encode(): b"z"}
    # outer dict (2) + three keys (3) + list (2 + 2 items) + inner dict (2 + key + int) + str
    assert count_tokens(obj) == 2 + 3 + 4 + 4 + 1


def test_magnet_link_carries_xt_dn_tr_ws():
    link = magnet_link(
        "ab" * 20, "1220" + "cd" * 32, "keep__0001", ["http://127.0.0.1:1/a"], ["http://h/x y"]
    )
    assert link == (
        "magnet:?xt=urn:btih:" + "ab" * 20 + "&xt=urn:btmh:1220" + "cd" * 32 + "&dn=keep__0001"
        "&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa&ws=http%3A%2F%2Fh%2Fx%20y"
    )
    assert lt.parse_magnet_uri(link).name == "keep__0001"
