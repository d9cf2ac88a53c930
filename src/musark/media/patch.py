"""Reconstruction patches: a zstd frame of the original that uses the archived file as its reference.

The format is exactly what ``zstd --patch-from=ARCHIVED`` reads: a standard zstd frame compressed
with the archived file loaded as raw-content dictionary (no dictionary id, content size recorded),
so ``zstd -d --patch-from=archived patch -o original`` rebuilds the original without musark.
"""

from __future__ import annotations

import zstandard as zstd

PATCH_LEVEL = 1


def _window_log(reference: bytes, target_size: int) -> int:
    # The window must span reference + target or matches into the reference are not allowed.
    return min(
        zstd.WINDOWLOG_MAX, max(zstd.WINDOWLOG_MIN, (len(reference) + target_size).bit_length())
    )


def make_patch(reference: bytes, target: bytes) -> bytes:
    """Return a zstd patch that rebuilds ``target`` from ``reference`` (zstd --patch-from format)."""
    ref_dict = zstd.ZstdCompressionDict(reference, dict_type=zstd.DICT_TYPE_RAWCONTENT)
    # zstd indexes only the last 2**(hash_log+3) bytes of a dictionary: size the table to the whole
    # reference so that a file differing only in its tags patches down to a few kilobytes.
    hash_log = min(zstd.HASHLOG_MAX, max(17, max(1, len(reference) - 1).bit_length() - 3))
    params = zstd.ZstdCompressionParameters.from_level(
        PATCH_LEVEL,
        window_log=_window_log(reference, len(target)),
        hash_log=hash_log,
        write_checksum=True,
    )
    cctx = zstd.ZstdCompressor(dict_data=ref_dict, compression_params=params)
    return cctx.compress(target)


def apply_patch(reference: bytes, patch: bytes) -> bytes:
    """Rebuild the target of ``patch`` from ``reference``."""
    ref_dict = zstd.ZstdCompressionDict(reference, dict_type=zstd.DICT_TYPE_RAWCONTENT)
    params = zstd.get_frame_parameters(patch)
    dctx = zstd.ZstdDecompressor(
        dict_data=ref_dict, max_window_size=max(params.window_size, 1 << zstd.WINDOWLOG_MIN)
    )
    return dctx.decompress(patch)
