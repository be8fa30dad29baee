"""The offline coder and reviewer: real solution scripts and reviews without any LLM.

The LLM layer's factory builds ``OfflineCoder(endpoint)`` and ``OfflineReviewer(endpoint)`` for
roles whose provider is ``offline``.
"""

from mlmaster.offline.coder import OfflineCoder
from mlmaster.offline.reviewer import OfflineReviewer

__all__ = ["OfflineCoder", "OfflineReviewer"]
