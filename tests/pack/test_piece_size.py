"""--piece-size auto: a power of two keeping the torrent within client limits, from sizes alone."""

from __future__ import annotations

import random

import pytest

from musark.pack.bencode import bencode, count_tokens
from musark.pack.hashing import Digests
from musark.pack.layout import Entry, make_layout
from musark.pack.piece_size import LIMITS, choose_piece_size, measure, parse_piece_size
from musark.pack.torrent import Options, build_metainfo


def _batch(n: int, mean: int, seed: int = 0) -> list[Entry]:
    rnd = random.Random(seed)
    files = [Entry(f"data/{i:012d}.ogg", rnd.randint(mean // 2, mean * 3 // 2)) for i in range(n)]
    return [*files, Entry("bag-info.txt", 180), Entry("bagit.txt", 55)]


@pytest.mark.parametrize("fmt", ["v1", "v2", "hybrid"])
@pytest.mark.parametrize("piece_size", [16384, 262144])
def test_measure_from_sizes_equals_the_real_bencoded_torrent(fmt, piece_size):
    files = [*_batch(400, 100_000), Entry("data/empty.ogg", 0), Entry("data/exact.ogg", 262144)]
    options = Options(trackers=("http://127.0.0.1:6969/announce",), web_seeds=("http://h/",))
    layout = make_layout(files, fmt, piece_size)
    d = Digests(pieces=bytes(20 * layout.num_pieces) if fmt != "v2" else None)
    for e in layout.files:
        if fmt != "v1" and e.size:
            d.roots[e.path] = e.path.encode()[:32].ljust(32, b"-")
            if e.size > piece_size:
                d.layers[e.path] = bytes(32 * -(-e.size // piece_size))
    meta = build_metainfo(layout, d, "keep__0001", options)
    m = measure(files, fmt, piece_size, "keep__0001", options)
    assert (m.torrent_bytes, m.bencode_tokens, m.pieces) == (
        len(bencode(meta)),
        count_tokens(meta),
        layout.num_pieces,
    )


def test_auto_at_60000_small_files_fits_every_limit_in_v1():
    files = _batch(60_000, 4_000_000)
    choice = choose_piece_size(files, "v1", "keep__0001")
    assert choice.over_limit is None and choice.warning is None
    assert choice.piece_size & (choice.piece_size - 1) == 0
    assert choice.torrent_bytes <= LIMITS["torrent_bytes"]
    assert choice.bencode_tokens <= LIMITS["bencode_tokens"]
    assert choice.pieces <= LIMITS["pieces"]


def test_auto_grows_the_piece_until_the_torrent_fits():
    files = _batch(60_000, 40_000_000)  # 2.4 TB: 4 MiB pieces would be 570k pieces, 11 MB
    choice = choose_piece_size(files, "v1", "keep__0001")
    assert choice.piece_size > 4 * 1024 * 1024
    assert choice.over_limit is None
    smaller = measure(files, "v1", choice.piece_size // 2, "keep__0001")
    assert smaller.torrent_bytes > LIMITS["torrent_bytes"]


def test_hybrid_at_60000_files_warns_naming_the_limit():
    files = _batch(60_000, 4_000_000)
    choice = choose_piece_size(files, "hybrid", "keep__0001")
    assert choice.over_limit == "torrent_bytes"
    assert "torrent_bytes ≤ 10,000,000" in choice.warning


@pytest.mark.parametrize(
    ("text", "expected"),
    [("auto", None), ("262144", 262144), ("4MiB", 4 << 20), ("256k", 262144), (65536, 65536)],
)
def test_parse_piece_size(text, expected):
    assert parse_piece_size(text) == expected


@pytest.mark.parametrize("text", ["3MiB", "1000", "8k", "big"])
def test_parse_piece_size_rejects_what_is_not_a_power_of_two_of_16kib_or_more(text):
    with pytest.raises(ValueError, match="piece size"):
        parse_piece_size(text)
