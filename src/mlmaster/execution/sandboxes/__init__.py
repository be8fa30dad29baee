"""The built-in sandboxes. Each module registers itself; a new sandbox is one more import here."""

from mlmaster.execution.sandboxes import bwrap, unsandboxed

__all__ = ["bwrap", "unsandboxed"]
