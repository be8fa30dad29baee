"""llm part."""
