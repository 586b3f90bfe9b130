"""The HTTP side: the JSON API (and later the portal pages)."""
