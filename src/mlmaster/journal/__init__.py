"""journal part."""
