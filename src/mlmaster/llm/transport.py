"""The seam between the generic endpoint and one provider's wire client.

A :class:`Transport` sends one request and reads one answer; it knows its client library and
how that library reports errors, nothing else. The :class:`~mlmaster.llm.client.Endpoint`
around it owns everything every provider shares: building parameters from the settings,
retries with backoff, the adaptive limiter, the wall-clock cap and accounting.

A new provider is one module under ``mlmaster/llm/transports/`` implementing this protocol,
registered by name in :data:`mlmaster.llm.transports.TRANSPORTS` (settings validate
``llm.<role>.transport`` against that table).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

from mlmaster.llm.faults import Fault
from mlmaster.settings.model import EndpointSettings


class ToolCallResult(BaseModel):
    name: str
    arguments: str


class WireAnswer(BaseModel):
    """What one request returned, as the wire said it (token counts may be missing)."""

    text: str
    reasoning_field: str | None = None  # reasoning_content / reasoning, when sent
    tool_calls: list[ToolCallResult] = []
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class Transport(Protocol):
    """One provider's client: send a request, read the answer, say what an error means."""

    async def chat(self, params: dict[str, Any], *, stream: bool) -> WireAnswer:
        """One chat request (``params`` holds ``model``, ``messages`` and the rest)."""
        ...

    async def complete(self, params: dict[str, Any], *, stream: bool) -> WireAnswer:
        """One raw completions request (``params`` holds ``model``, ``prompt`` ...)."""
        ...

    async def model_info(self) -> dict[str, Any] | None:
        """The server's description of the model (its context length, if it says), or None."""
        ...

    def classify(self, error: BaseException) -> Fault | None:
        """What ``error`` (raised by ``chat``/``complete``) means; None: not a wire error."""
        ...

    async def close(self) -> None: ...


TransportFactory = Callable[[EndpointSettings, str | None], Transport]
"""Builds a transport from the role's settings and its API key (None: none needed)."""
