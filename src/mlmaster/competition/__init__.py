"""competition part."""
