"""Ogg page helpers: CRC, clean end of stream (even with 'OggS' inside audio data)."""

from __future__ import annotations

from musark.media import ogg
from musark.media.synth import write_audio


def _last_page(data: bytes) -> int:
    pos = 0
    while True:
        nseg = data[pos + 26]
        end = pos + 27 + nseg + sum(data[pos + 27 : pos + 27 + nseg])
        if end == len(data):
            return pos
        pos = end


def test_clean_end_truncation_and_a_false_capture_pattern_in_the_last_page(tmp_path):
    data = write_audio(tmp_path / "x.ogg", 2.0, seed=5).read_bytes()
    assert ogg.ends_cleanly(data)
    assert not ogg.ends_cleanly(data[:-10])
    assert not ogg.ends_cleanly(data[: len(data) // 2])
    # Plant "OggS" in the payload of the last page and fix its CRC: still a clean end.
    start = _last_page(data)
    page = bytearray(data[start:])
    payload = 27 + page[26]
    page[payload + 4 : payload + 8] = b"OggS"
    page[22:26] = b"\0\0\0\0"
    page[22:26] = ogg.page_crc(page)
    planted = data[:start] + bytes(page)
    assert planted.rfind(b"OggS") > start
    assert ogg.ends_cleanly(planted)
    # A damaged last page (bad CRC) is not a clean end.
    damaged = bytearray(planted)
    damaged[-1] ^= 0xFF
    assert not ogg.ends_cleanly(bytes(damaged))


def test_renumbering_updates_each_crc_as_a_full_recomputation_would(tmp_path):
    data = write_audio(tmp_path / "x.ogg", 2.0, seed=7).read_bytes()
    serial = int.from_bytes(data[14:18], "little")
    renumbered = ogg.renumber_pages(data, serial, 5)
    pos, seq = 0, 5
    while pos < len(renumbered):
        nseg = renumbered[pos + 26]
        end = pos + 27 + nseg + sum(renumbered[pos + 27 : pos + 27 + nseg])
        page = bytearray(renumbered[pos:end])
        assert int.from_bytes(page[18:22], "little") == seq
        crc = bytes(page[22:26])
        page[22:26] = b"\0\0\0\0"
        assert ogg.page_crc(page) == crc
        pos, seq = end, seq + 1
    assert ogg.check_pages(renumbered) == ogg.check_pages(data)
