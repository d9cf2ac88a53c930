"""Tag writing: the fast Ogg path gives exactly mutagen's bytes, and audio pages stay intact."""

from __future__ import annotations

import io

import pytest
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from musark.media.cover import prepare_cover
from musark.media.synth import write_audio
from musark.media.tags import TrackTags, _no_padding, _tag_vorbis, write_tags
from tests.media.fixtures import cover_jpeg_bytes

TAGS = TrackTags(
    track_id="t1", title="Title", artists=["A", "B"], album="Album", isrc="QZAAA2400001"
)


@pytest.mark.parametrize(("ext", "opener"), [("ogg", OggVorbis), ("opus", OggOpus)])
@pytest.mark.parametrize("with_cover", [False, True])
def test_fast_ogg_tagging_equals_mutagens_full_save(tmp_path, ext, opener, with_cover):
    data = write_audio(tmp_path / f"x.{ext}", 4.0, seed=3).read_bytes()
    cover = prepare_cover(cover_jpeg_bytes((800, 800)), 1000, 10**7) if with_cover else None
    buf = io.BytesIO(data)
    f = opener(buf)
    _tag_vorbis(f, TAGS, cover)
    buf.seek(0)
    f.save(buf, padding=_no_padding)  # mutagen's own path: renumbers every later page itself
    assert write_tags(data, ext, TAGS, cover) == buf.getvalue()
