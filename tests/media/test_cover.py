"""Cover art: bounded before decoding, shrunk when oversized, skipped with a reason when unusable."""

from __future__ import annotations

import io
import struct
import zlib

import mutagen
import pytest
from mutagen.flac import FLAC, Picture
from PIL import Image

from musark.archive import Archive, init_archive
from musark.media.cover import CoverError, load_cover_file, prepare_cover
from musark.media.process import process_archive
from tests.media.fixtures import Track, cover_jpeg_bytes, make_catalog, track_files


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` pixels but holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def test_small_cover_is_embedded_byte_for_byte():
    data = cover_jpeg_bytes((400, 300))
    cover = prepare_cover(data, max_px=1000, max_bytes=10**6)
    assert cover.data == data and (cover.width, cover.height) == (400, 300)
    assert cover.mime == "image/jpeg"


def test_oversized_cover_is_shrunk_to_max_px_as_jpeg():
    cover = prepare_cover(cover_jpeg_bytes((2400, 1600)), max_px=1000, max_bytes=10**7)
    img = Image.open(io.BytesIO(cover.data))
    assert img.format == "JPEG" and img.size == (1000, 667) == (cover.width, cover.height)


@pytest.mark.parametrize(
    ("size", "reason"), [((9500, 9000), "exceeds"), ((20000, 20000), "too many pixels")]
)
def test_huge_canvas_is_refused_before_any_pixel_is_decoded(size, reason):
    with pytest.raises(CoverError, match=reason):
        prepare_cover(png_header_only(*size), max_px=1000, max_bytes=10**7)


def test_invalid_or_too_large_images_are_skipped_with_a_reason(tmp_path):
    with pytest.raises(CoverError, match="not a decodable image"):
        prepare_cover(b"GIF89a but not really", 1000, 10**6)
    big = tmp_path / "big.jpg"
    big.write_bytes(cover_jpeg_bytes((200, 200)))
    with pytest.raises(CoverError, match="cover_max_bytes 100"):
        load_cover_file(big, 1000, max_bytes=100)
    with pytest.raises(CoverError, match="cannot read"):
        load_cover_file(tmp_path / "absent.jpg", 1000, 10**6)


def test_bad_catalogue_cover_is_a_warning_and_a_source_picture_is_carried_over(tmp_path):
    arc = Archive(tmp_path / "archive")
    init_archive(arc)
    bad_cover = tmp_path / "broken.jpg"
    bad_cover.write_bytes(b"\xff\xd8\xff not a jpeg")
    sources = make_catalog(arc, [Track("pic-flac", "flac", 2.0)], tmp_path / "src", cover=bad_cover)
    # The operator's file carries its own picture: it survives into the archived file.
    src = FLAC(sources["pic-flac"])
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/jpeg", cover_jpeg_bytes((120, 80))
    src.add_picture(pic)
    src.save()
    process_archive(arc, source_dir=tmp_path / "src", workers=1, show_progress=False)
    (row,) = track_files(arc)
    assert row["status"] == "done"
    assert "broken.jpg" in row["warning"] and "not a decodable image" in row["warning"]
    archived = mutagen.File(arc.track_path(row["batch"], "pic-flac", "flac"))
    assert [p.data for p in archived.pictures] == [pic.data]
