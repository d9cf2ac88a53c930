"""Pack: single-pass hashing, torrents, BagIt manifests, torrents.json, magnets."""
