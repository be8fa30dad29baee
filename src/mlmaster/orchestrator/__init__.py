"""orchestrator part."""
