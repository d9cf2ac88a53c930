"""Generated CC0 audio decodes in every format musark handles."""

from __future__ import annotations

import av
import mutagen
import pytest

from musark.media.synth import FORMATS, remux_head, write_audio


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_generated_audio_probes_with_mutagen_and_pyav(tmp_path, ext):
    path = write_audio(tmp_path / f"tone.{ext}", 3.0, seed=7)
    info = mutagen.File(path).info
    assert abs(info.length - 3.0) < 0.2
    with av.open(str(path)) as c:
        assert c.streams.audio[0].channels == 2
        assert sum(f.samples for f in c.decode(audio=0)) > 0


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot synthesise"):
        write_audio(tmp_path / "x.wav")


def test_remux_head_cuts_without_re_encoding(tmp_path):
    src = write_audio(tmp_path / "long.ogg", 6.0, seed=3)
    head = tmp_path / "head.ogg"
    remux_head(src, head, 2.0)
    assert abs(mutagen.File(head).info.length - 2.0) < 0.1
    with av.open(str(src)) as a, av.open(str(head)) as b:
        ours = [bytes(p) for p in b.demux(audio=0) if p.dts is not None]
        theirs = [bytes(p) for p in a.demux(audio=0) if p.dts is not None][: len(ours)]
    assert ours and ours == theirs  # the same packets, byte for byte: nothing was re-encoded


@pytest.mark.parametrize(("channels", "layout"), [(1, "mono"), (2, "stereo"), (6, "5.1")])
def test_generated_audio_has_the_channels_asked_for_in_ffmpegs_default_layout(
    tmp_path, channels, layout
):
    path = write_audio(tmp_path / "c.flac", 1.0, channels=channels)
    with av.open(str(path)) as container:
        ctx = container.streams.audio[0].codec_context
        assert (ctx.channels, ctx.layout.name) == (channels, layout)
        assert abs(float(container.duration / 1e6) - 1.0) < 0.05
