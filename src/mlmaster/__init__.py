"""mlmaster: ML-Master's tree search over solution scripts, as an asyncio service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlmaster")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
