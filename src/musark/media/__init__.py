"""Media: probe, keep-or-transcode, tags and cover art, reconstruction patches, restore."""
