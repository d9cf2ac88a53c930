"""musark: build, publish, mirror, verify and play an open music preservation archive."""

__version__ = "0.1.0"
