"""execution part."""
