"""Subsonic/OpenSubsonic API server, web player, search index, users and auth over an archive or mirror."""
