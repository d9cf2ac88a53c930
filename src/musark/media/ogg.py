"""Ogg pages in memory: CRC, where the headers end, renumbering, and a clean end of stream."""

from __future__ import annotations

import struct
import zlib

# Ogg's CRC-32 is zlib's with every byte bit-reversed (mutagen computes it the same way).
_BITSWAP = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_ZEROS = memoryview(bytes(65536))  # longer than the longest Ogg page (65,307 bytes)
_HEADER_PACKETS = {b"\x01vorbis": 3, b"OpusHead": 2}


def page_crc(page: bytes | bytearray) -> bytes:
    """The 4 CRC bytes of an Ogg page (its CRC field must be zero in ``page``)."""
    crc = ~zlib.crc32(bytes(page).translate(_BITSWAP), -1) & 0xFFFFFFFF
    return struct.pack(">I", crc).translate(_BITSWAP)


def header_end(data: bytes) -> int | None:
    """Offset of the first audio page: where the codec's header packets have all ended."""
    need = next((n for magic, n in _HEADER_PACKETS.items() if data[28:36].startswith(magic)), None)
    pos = finished = 0
    while need and pos + 27 <= len(data) and data[pos : pos + 4] == b"OggS":
        lacing = data[pos + 27 : pos + 27 + data[pos + 26]]
        finished += sum(1 for v in lacing if v < 255)
        pos += 27 + len(lacing) + sum(lacing)
        if finished >= need:
            return pos
    return None


def _crc_delta(change: bytes, trailing: int) -> int:
    """CRC (as stored, little-endian) of ``change`` followed by ``trailing`` zero bytes."""
    crc = zlib.crc32(change.translate(_BITSWAP), 0xFFFFFFFF)
    crc = ~zlib.crc32(_ZEROS[:trailing], crc) & 0xFFFFFFFF
    return int.from_bytes(struct.pack(">I", crc).translate(_BITSWAP), "little")


def renumber_pages(data: bytes, serial: int, first_seq: int) -> bytes:
    """Give the pages of ``serial`` consecutive sequence numbers from ``first_seq`` (fixing CRCs).

    Ogg's CRC has no initial value or final XOR, so it is linear: a new sequence number changes
    the CRC by the CRC of (old XOR new) followed by zeros, whatever the rest of the page holds.
    The page bodies are never read again (a valid CRC stays valid); zeros cost no translation.
    """
    out = bytearray(data)
    pos, seq = 0, first_seq
    while pos + 27 <= len(out):
        if out[pos : pos + 4] != b"OggS":
            raise ValueError(f"no Ogg page at byte {pos}")
        nseg = out[pos + 26]
        end = pos + 27 + nseg + sum(out[pos + 27 : pos + 27 + nseg])
        page_serial, old_seq, old_crc = struct.unpack_from("<III", out, pos + 14)
        if page_serial == serial:
            if old_seq != seq:
                change = struct.pack("<I", old_seq ^ seq)
                crc = old_crc ^ _crc_delta(change, end - pos - 22)
                struct.pack_into("<II", out, pos + 18, seq, crc)
            seq += 1
        pos = end
    return bytes(out)


def ends_cleanly(data: bytes) -> bool:
    """True when the file ends with a complete, CRC-valid Ogg page flagged end-of-stream."""
    # The last page starts within 65,307 bytes of the end; "OggS" may also occur inside audio
    # data, so a candidate counts only if it parses to exactly the end and its CRC matches.
    floor = max(0, len(data) - 65307 - 4)
    pos = data.rfind(b"OggS", floor)
    while pos >= 0:
        if len(data) >= pos + 27:
            nseg = data[pos + 26]
            lacing = data[pos + 27 : pos + 27 + nseg]
            if len(lacing) == nseg and pos + 27 + nseg + sum(lacing) == len(data):
                page = bytearray(data[pos:])
                crc = bytes(page[22:26])
                page[22:26] = b"\0\0\0\0"
                if page_crc(page) == crc:
                    return bool(data[pos + 5] & 0x04)
        pos = data.rfind(b"OggS", floor, pos)
    return False


class OggDamage(ValueError):
    """An Ogg stream that is damaged or cut short; ``str()`` says where."""


def check_pages(data: bytes) -> int:
    """Walk every page once: capture pattern, CRC, sequence numbers, clean end of stream.

    Returns the bytes of page bodies after the codec headers (the audio bitstream); raises
    OggDamage naming the first fault. One translate + one CRC pass over the file: far cheaper
    than demuxing every packet, and a CRC catches damage a demuxer silently skips.
    """
    swapped = memoryview(data.translate(_BITSWAP))
    view = memoryview(data)
    size = len(data)
    pos = 0
    expected_seq: dict[int, int] = {}
    eos = False
    body_bytes = 0
    head_end = header_end(data) or 0
    while pos < size:
        if pos + 27 > size:
            raise OggDamage(f"truncated: incomplete Ogg page header at byte {pos}")
        if view[pos : pos + 4] != b"OggS":
            raise OggDamage(f"corrupt: no Ogg page at byte {pos} (damaged or foreign data)")
        nseg = data[pos + 26]
        body = sum(view[pos + 27 : pos + 27 + nseg])
        end = pos + 27 + nseg + body
        if end > size:
            raise OggDamage(f"truncated: the last Ogg page (byte {pos}) is incomplete")
        # zlib's running value is the complement of Ogg's register (see page_crc).
        crc = zlib.crc32(swapped[pos : pos + 22], 0xFFFFFFFF)
        crc = zlib.crc32(b"\0\0\0\0", crc)
        crc = ~zlib.crc32(swapped[pos + 26 : end], crc) & 0xFFFFFFFF
        if struct.pack(">I", crc).translate(_BITSWAP) != view[pos + 22 : pos + 26]:
            raise OggDamage(f"corrupt: Ogg page at byte {pos} fails its CRC")
        serial, seq = struct.unpack_from("<II", data, pos + 14)
        if serial in expected_seq and seq != expected_seq[serial]:
            raise OggDamage(
                f"corrupt: Ogg page {expected_seq[serial]} missing before byte {pos} (got {seq})"
            )
        expected_seq[serial] = seq + 1
        eos = bool(data[pos + 5] & 0x04)
        if pos >= head_end:
            body_bytes += body
        pos = end
    if not eos:
        raise OggDamage("truncated: the last Ogg page is not flagged end-of-stream")
    return body_bytes
