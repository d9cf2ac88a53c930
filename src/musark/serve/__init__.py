"""Serve: Subsonic/OpenSubsonic API, web player, search index, users and auth."""
