"""Reconstruction patches: a zstd frame of the original that uses the archived file as its reference.

The format is exactly what ``zstd --patch-from=ARCHIVED`` writes and reads: a standard zstd frame
compressed with the archived file referenced as a raw prefix (no dictionary id, content size
recorded), so ``zstd -d --patch-from=archived patch -o original`` rebuilds the original without
musark.

Speed: the archived file is loaded as a *prefix* (the zstd CLI's way), not as a dictionary. A
dictionary is first turned into a CDict whose hash table is filled at every position of the
whole reference and then copied into the compressor (~45 ms for a 6 MB file); a prefix goes
straight into the compressor, and long-distance matching (again as the CLI does for
``--patch-from``) indexes it sparsely: a file that differs from its reference only by its tags
patches in ~6 ms per 6 MB, ~150 times faster than it can be read from a disk.
"""

from __future__ import annotations

try:  # Python >= 3.14 ships it; the backport is the same module for older versions
    from compression import zstd
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd

_P = zstd.CompressionParameter
PATCH_LEVEL = 1
# Long-distance matching: insert every 2**8-th position of the reference, matches of >= 64 bytes.
# The archived file repeats the original in runs of kilobytes to megabytes (at worst broken every
# Ogg page by a new sequence number and CRC), so sparse anchors find every run, and zstd's repeat
# offsets resume a run right after each small change.
LDM_HASH_RATE_LOG = 8
LDM_MIN_MATCH = 64
# The regular match finder only covers what LDM leaves between runs: a small table is enough.
HASH_LOG = 12


def _window_log(reference_size: int, target_size: int) -> int:
    # The window must span reference + target or matches into the reference are not allowed.
    low, high = _P.window_log.bounds()
    return min(high, max(low, (reference_size + target_size).bit_length()))


def make_patch(reference: bytes, target: bytes) -> bytes:
    """Return a zstd patch that rebuilds ``target`` from ``reference`` (zstd --patch-from format)."""
    options = {
        _P.compression_level: PATCH_LEVEL,
        _P.window_log: _window_log(len(reference), len(target)),
        _P.hash_log: HASH_LOG,
        _P.enable_long_distance_matching: 1,
        _P.ldm_hash_rate_log: LDM_HASH_RATE_LOG,
        _P.ldm_min_match: LDM_MIN_MATCH,
        _P.checksum_flag: 1,
        _P.dict_id_flag: 0,
    }
    prefix = zstd.ZstdDict(reference, is_raw=True).as_prefix
    # One FLUSH_FRAME call with the whole target: zstd records its size in the frame header.
    return zstd.ZstdCompressor(options=options, zstd_dict=prefix).compress(
        target, zstd.ZstdCompressor.FLUSH_FRAME
    )


def apply_patch(reference: bytes, patch: bytes) -> bytes:
    """Rebuild the target of ``patch`` from ``reference``."""
    size = zstd.get_frame_info(patch).decompressed_size
    window_log = (
        _window_log(len(reference), size)
        if size is not None
        else zstd.DecompressionParameter.window_log_max.bounds()[1]
    )
    decompressor = zstd.ZstdDecompressor(
        zstd_dict=zstd.ZstdDict(reference, is_raw=True).as_prefix,
        options={zstd.DecompressionParameter.window_log_max: window_log},
    )
    return decompressor.decompress(patch)
