"""Generated CC0 audio decodes in every format musark handles."""

from __future__ import annotations

import av
import mutagen
import pytest

from musark.media.synth import FORMATS, write_audio


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
