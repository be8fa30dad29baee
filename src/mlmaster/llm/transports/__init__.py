"""The registry of transports: name -> the factory that builds one.

Entries are import paths so that naming a transport in settings is validated without loading
any client library; :func:`load_transport` imports the chosen one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from mlmaster.llm.transport import TransportFactory

TRANSPORTS: dict[str, str] = {
    "openai": "mlmaster.llm.transports.openai_sdk:OpenAITransport",
    "azure": "mlmaster.llm.transports.azure:AzureTransport",
}


def load_transport(name: str) -> TransportFactory:
    module_name, _, attribute = TRANSPORTS[name].partition(":")
    return cast("TransportFactory", getattr(importlib.import_module(module_name), attribute))
