"""Cover art: validate, bound and (when needed) shrink an image before it is embedded in a file."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

# Refuse to decode anything bigger than this many pixels, whatever the file size says.
MAX_SOURCE_PIXELS = 80_000_000
JPEG_QUALITY = 90


class CoverError(ValueError):
    """An image that is skipped; ``str()`` is the reason recorded with the track."""


@dataclass(frozen=True)
class Cover:
    """An image ready to embed."""

    mime: str
    data: bytes
    width: int
    height: int


def _too_big(what: str, size: int, limit: int) -> CoverError:
    return CoverError(f"cover {what}: {size} bytes > cover_max_bytes {limit}")


def load_cover_file(path: Path | str, max_px: int, max_bytes: int) -> Cover:
    """Read a local image file (size checked before reading) and prepare it for embedding."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CoverError(f"cover {path}: cannot read ({exc.strerror})") from exc
    if size > max_bytes:
        raise _too_big(str(path), size, max_bytes)
    return prepare_cover(path.read_bytes(), max_px, max_bytes, name=str(path))


def prepare_cover(data: bytes, max_px: int, max_bytes: int, name: str = "image") -> Cover:
    """Return ``data`` as an embeddable JPEG/PNG no larger than ``max_px`` on its long side."""
    if len(data) > max_bytes:
        raise _too_big(name, len(data), max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            # Image.open reads only the header: refuse huge canvases before any pixel is decoded.
            w, h = img.size
            if w * h > MAX_SOURCE_PIXELS:
                raise CoverError(f"cover {name}: {w}x{h} pixels exceeds {MAX_SOURCE_PIXELS}")
            fmt = img.format
            if fmt in ("JPEG", "PNG") and max(w, h) <= max_px:
                img.load()  # proves the image decodes; it is embedded byte for byte
                return Cover("image/jpeg" if fmt == "JPEG" else "image/png", data, w, h)
            if fmt == "JPEG":
                img.draft("RGB", (max_px, max_px))  # decode at reduced scale: bounded memory
            img = img.convert("RGB")
            img.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=JPEG_QUALITY)
            return Cover("image/jpeg", out.getvalue(), img.width, img.height)
    except CoverError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CoverError(f"cover {name}: too many pixels ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CoverError(f"cover {name}: not a decodable image ({exc})") from exc
