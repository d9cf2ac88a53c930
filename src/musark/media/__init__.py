"""Media: probe, keep-or-transcode, tags and cover art, reconstruction patches, restore."""

from musark.media import libopus

# Before anything here imports PyAV: the libopus it will encode with is chosen now (libopus.py).
libopus.select()
