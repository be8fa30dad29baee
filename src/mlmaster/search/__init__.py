"""search part."""
