"""Tags in each format's native scheme (Vorbis comments, ID3v2.4, MP4 atoms), written in memory."""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import dataclass, field

import mutagen
from mutagen import id3
from mutagen.flac import FLAC, Picture
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from musark.media import ogg
from musark.media.cover import Cover

URN_PREFIX = "urn:musark:track:"
FRONT_COVER = 3
ITUNES = "----:com.apple.iTunes:"


@dataclass(frozen=True)
class TrackTags:
    """Catalogue metadata of one track, as written into its file."""

    track_id: str
    title: str
    artists: list[str] = field(default_factory=list)
    album_artist: str | None = None
    album: str | None = None
    label: str | None = None
    isrc: str | None = None
    barcode: str | None = None
    date: str | None = None
    track_number: int | None = None
    track_total: int | None = None
    disc_number: int | None = None
    copyright: str | None = None

    @property
    def urn(self) -> str:
        """The track's source URN."""
        return URN_PREFIX + self.track_id

    def vorbis_comments(self) -> list[tuple[str, str]]:
        """(KEY, value) pairs in Vorbis-comment naming; one ARTIST per artist."""
        pairs: list[tuple[str, str | int | None]] = [("TITLE", self.title)]
        pairs += [("ARTIST", a) for a in self.artists]
        pairs += [
            ("ALBUMARTIST", self.album_artist),
            ("ALBUM", self.album),
            ("LABEL", self.label),
            ("ORGANIZATION", self.label),
            ("ISRC", self.isrc),
            ("BARCODE", self.barcode),
            ("DATE", self.date),
            ("TRACKNUMBER", self.track_number),
            ("TRACKTOTAL", self.track_total),
            ("DISCNUMBER", self.disc_number),
            ("COPYRIGHT", self.copyright),
            ("SOURCE_ID", self.track_id),
            ("SOURCE_URN", self.urn),
        ]
        return [(k, str(v)) for k, v in pairs if v not in (None, "")]


def _picture(cover: Cover) -> Picture:
    pic = Picture()
    pic.type = FRONT_COVER
    pic.mime = cover.mime
    pic.width, pic.height, pic.depth = cover.width, cover.height, 24
    pic.data = cover.data
    return pic


def _tag_vorbis(f: mutagen.FileType, tags: TrackTags, cover: Cover | None) -> None:
    f.tags.clear()
    for key, value in tags.vorbis_comments():
        f.tags.append((key, value))
    if cover is not None:
        if isinstance(f, FLAC):
            f.clear_pictures()
            f.add_picture(_picture(cover))
        else:
            block = base64.b64encode(_picture(cover).write()).decode("ascii")
            f.tags.append(("METADATA_BLOCK_PICTURE", block))


def _id3_frames(tags: TrackTags, cover: Cover | None) -> id3.ID3:
    t = id3.ID3()
    enc = id3.Encoding.UTF8
    t.add(id3.TIT2(encoding=enc, text=[tags.title]))
    simple = {
        id3.TPE1: tags.artists or None,
        id3.TPE2: tags.album_artist,
        id3.TALB: tags.album,
        id3.TPUB: tags.label,
        id3.TSRC: tags.isrc,
        id3.TCOP: tags.copyright,
    }
    for frame, value in simple.items():
        if value:
            t.add(frame(encoding=enc, text=value if isinstance(value, list) else [value]))
    if tags.date:
        t.add(id3.TDRC(encoding=enc, text=[tags.date]))
    if tags.track_number:
        total = f"/{tags.track_total}" if tags.track_total else ""
        t.add(id3.TRCK(encoding=enc, text=[f"{tags.track_number}{total}"]))
    if tags.disc_number:
        t.add(id3.TPOS(encoding=enc, text=[str(tags.disc_number)]))
    for desc, value in (
        ("LABEL", tags.label),
        ("BARCODE", tags.barcode),
        ("SOURCE_ID", tags.track_id),
        ("SOURCE_URN", tags.urn),
    ):
        if value:
            t.add(id3.TXXX(encoding=enc, desc=desc, text=[value]))
    if cover is not None:
        t.add(id3.APIC(encoding=enc, mime=cover.mime, type=FRONT_COVER, desc="", data=cover.data))
    return t


def _tag_mp4(f: MP4, tags: TrackTags, cover: Cover | None) -> None:
    if f.tags is None:
        f.add_tags()
    f.tags.clear()
    values: dict[str, list] = {"\xa9nam": [tags.title]}
    if tags.artists:
        values["\xa9ART"] = list(tags.artists)
    for key, value in (
        ("aART", tags.album_artist),
        ("\xa9alb", tags.album),
        ("\xa9day", tags.date),
        ("cprt", tags.copyright),
    ):
        if value:
            values[key] = [value]
    if tags.track_number:
        values["trkn"] = [(tags.track_number, tags.track_total or 0)]
    if tags.disc_number:
        values["disk"] = [(tags.disc_number, 0)]
    for name, value in (
        ("LABEL", tags.label),
        ("ORGANIZATION", tags.label),
        ("ISRC", tags.isrc),
        ("BARCODE", tags.barcode),
        ("SOURCE_ID", tags.track_id),
        ("SOURCE_URN", tags.urn),
    ):
        if value:
            values[ITUNES + name] = [MP4FreeForm(value.encode("utf-8"))]
    if cover is not None:
        fmt = MP4Cover.FORMAT_JPEG if cover.mime == "image/jpeg" else MP4Cover.FORMAT_PNG
        values["covr"] = [MP4Cover(cover.data, imageformat=fmt)]
    f.tags.update(values)


def _write_ogg_head(data: bytes, ext: str, tags: TrackTags, cover: Cover | None) -> bytes | None:
    """Tag only the header pages, then renumber the audio pages in one fast pass.

    Same bytes as mutagen's full save (it renumbers every later page too, page object by page
    object); this does it on one buffer and leaves the audio pages alone when the count holds.
    """
    end = ogg.header_end(data)
    if end is None:
        return None
    head = io.BytesIO(data[:end])
    f = (OggOpus if ext == "opus" else OggVorbis)(head)
    _tag_vorbis(f, tags, cover)
    head.seek(0)
    f.save(head, padding=_no_padding)
    new_head = head.getvalue()
    last = new_head.rfind(b"OggS")
    serial, last_seq = struct.unpack_from("<II", new_head, last + 14)
    old_last_seq = struct.unpack_from("<I", data, data.rfind(b"OggS", 0, end) + 18)[0]
    audio = data[end:]
    if last_seq != old_last_seq:
        audio = ogg.renumber_pages(audio, serial, last_seq + 1)
    return new_head + audio


def _no_padding(info: mutagen.PaddingInfo) -> int:
    # Archived files are never retagged in place (their bytes are in torrents), so no padding.
    return 0


_OPENERS = {"ogg": (OggVorbis, OggFLAC), "opus": (OggOpus,), "flac": (FLAC,), "m4a": (MP4,)}


def write_tags(data: bytes, ext: str, tags: TrackTags, cover: Cover | None) -> bytes:
    """Return ``data`` with every tag replaced by ``tags`` (+ cover); audio bytes are untouched."""
    buf = io.BytesIO(data)
    if ext == "mp3":
        # ID3v2.4 replaces any ID3v2 header; v1=0 drops an ID3v1 trailer so one tag set remains.
        _id3_frames(tags, cover).save(buf, v1=0, v2_version=4, padding=_no_padding)
        return buf.getvalue()
    if ext in ("ogg", "opus"):
        try:
            fast = _write_ogg_head(data, ext, tags, cover)
        except (mutagen.MutagenError, ValueError, struct.error):
            fast = None  # unusual layout (chained, multiplexed, Ogg FLAC): mutagen's full save
        if fast is not None:
            return fast
    last_error: Exception | None = None
    for opener in _OPENERS[ext]:
        buf.seek(0)
        try:
            f = opener(buf)
        except mutagen.MutagenError as exc:
            last_error = exc
            continue
        if isinstance(f, MP4):
            _tag_mp4(f, tags, cover)
        else:
            if f.tags is None:
                f.add_tags()
            _tag_vorbis(f, tags, cover)
        buf.seek(0)
        f.save(buf, padding=_no_padding)
        return buf.getvalue()
    raise ValueError(f"cannot tag .{ext} file: {last_error}")


def embedded_picture(data: bytes) -> bytes | None:
    """Return the front cover (else the first picture) embedded in an audio file, if any."""
    try:
        f = mutagen.File(io.BytesIO(data))
    except mutagen.MutagenError:
        return None
    if f is None or f.tags is None:
        return None
    pictures: list[tuple[int, bytes]] = []
    if isinstance(f, FLAC):
        pictures = [(p.type, p.data) for p in f.pictures]
    elif isinstance(f, MP4):
        pictures = [(FRONT_COVER, bytes(c)) for c in f.tags.get("covr", [])]
    elif isinstance(f.tags, id3.ID3):
        pictures = [(fr.type, fr.data) for fr in f.tags.getall("APIC")]
    else:
        for block in f.tags.get("METADATA_BLOCK_PICTURE", []):
            try:
                pic = Picture(base64.b64decode(block))
            except (ValueError, mutagen.MutagenError):
                continue
            pictures.append((pic.type, pic.data))
    if not pictures:
        return None
    pictures.sort(key=lambda p: p[0] != FRONT_COVER)
    return pictures[0][1]
