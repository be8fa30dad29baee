"""offline part."""
