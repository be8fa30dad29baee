"""memory part: insights per finished node and the context a new node's prompt gets."""

from mlmaster.memory.insight import ContextEntry, Insight, MemoryContext
from mlmaster.memory.store import MemoryStore, insight_from_node

__all__ = [
    "ContextEntry",
    "Insight",
    "MemoryContext",
    "MemoryStore",
    "insight_from_node",
]
