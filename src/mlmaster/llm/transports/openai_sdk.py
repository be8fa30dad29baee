"""The OpenAI SDK transport: any server that speaks the OpenAI wire format.

OpenAI itself, DeepSeek, OpenRouter, vLLM, SGLang, Ollama and most gateways. The SDK's own
retries are off (``max_retries=0``): the endpoint's loop decides what is retried.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from mlmaster.llm.faults import Fault, classify_status, context_limit
from mlmaster.llm.transport import ToolCallResult, WireAnswer
from mlmaster.settings.model import EndpointSettings

# A local server (vLLM, Ollama) wants no key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"
# The SDK's own timeout is a backstop only: the endpoint caps each call's wall clock itself.
SDK_TIMEOUT_MARGIN = 30.0


class EmptyAnswer(Exception):
    """A 200 with no choices: a server hiccup, worth another try."""


class OpenAITransport:
    def __init__(self, settings: EndpointSettings, api_key: str | None) -> None:
        self.settings = settings
        self.client = self._client(settings, api_key or PLACEHOLDER_KEY)

    def _client(self, settings: EndpointSettings, api_key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=api_key,
            base_url=settings.base_url,
            timeout=settings.request_timeout + SDK_TIMEOUT_MARGIN,
            max_retries=0,
            default_headers=headers(settings),
            default_query=settings.extra_query or None,
        )

    async def close(self) -> None:
        await self.client.close()

    # -- requests -----------------------------------------------------------------------------

    async def chat(self, params: dict[str, Any], *, stream: bool) -> WireAnswer:
        if stream:
            return await self._chat_streamed(params)
        response = await self.client.chat.completions.create(**params)
        if not response.choices:
            raise EmptyAnswer("the answer had no choices")
        choice = response.choices[0]
        message = choice.message
        return WireAnswer(
            text=message.content or "",
            reasoning_field=_reasoning(message.model_extra),
            tool_calls=[
                ToolCallResult(name=tc.function.name, arguments=tc.function.arguments)
                for tc in message.tool_calls or []
                if tc.type == "function"
            ],
            finish_reason=choice.finish_reason,
            input_tokens=getattr(response.usage, "prompt_tokens", None),
            output_tokens=getattr(response.usage, "completion_tokens", None),
        )

    async def _chat_streamed(self, params: dict[str, Any]) -> WireAnswer:
        """One streamed chat call, its deltas put back together."""
        text, reasoning = [], []
        calls: dict[int, ToolCallResult] = {}
        finish_reason: str | None = None
        usage: Any = None
        stream = await self.client.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            async for chunk in stream:
                usage = chunk.usage or usage
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    text.append(delta.content or "")
                    piece = _reasoning(delta.model_extra)
                    if piece:
                        reasoning.append(piece)
                    for call in delta.tool_calls or []:
                        slot = calls.setdefault(call.index, ToolCallResult(name="", arguments=""))
                        if call.function is not None:
                            slot.name += call.function.name or ""
                            slot.arguments += call.function.arguments or ""
                    finish_reason = choice.finish_reason or finish_reason
        return WireAnswer(
            text="".join(text),
            reasoning_field="".join(reasoning) or None,
            tool_calls=[calls[index] for index in sorted(calls)],
            finish_reason=finish_reason,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
        )

    async def complete(self, params: dict[str, Any], *, stream: bool) -> WireAnswer:
        if stream:
            return await self._complete_streamed(params)
        response = await self.client.completions.create(**params)
        if not response.choices:
            raise EmptyAnswer("the answer had no choices")
        choice = response.choices[0]
        return WireAnswer(
            text=choice.text or "",
            finish_reason=choice.finish_reason,
            input_tokens=getattr(response.usage, "prompt_tokens", None),
            output_tokens=getattr(response.usage, "completion_tokens", None),
        )

    async def _complete_streamed(self, params: dict[str, Any]) -> WireAnswer:
        text: list[str] = []
        finish_reason: str | None = None
        usage: Any = None
        stream = await self.client.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            async for chunk in stream:
                usage = chunk.usage or usage
                for choice in chunk.choices[:1]:
                    text.append(choice.text or "")
                    finish_reason = choice.finish_reason or finish_reason
        return WireAnswer(
            text="".join(text),
            finish_reason=finish_reason,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
        )

    async def model_info(self) -> dict[str, Any] | None:
        """The model's card from ``GET /models`` as a plain dict (vLLM says max_model_len,
        OpenRouter context_length); None when the server lists no such model."""
        try:
            page = await self.client.models.list()
        except openai.OpenAIError:
            return None
        for card in page.data:
            if card.id == self.settings.model:
                return card.model_dump()
        return None

    # -- errors -------------------------------------------------------------------------------

    def classify(self, error: BaseException) -> Fault | None:
        if isinstance(error, openai.APITimeoutError):
            return Fault(kind="transient", reason="the server did not answer in time")
        if isinstance(error, openai.APIConnectionError):
            # Also a stream cut halfway: the SDK reports it as a connection error.
            return Fault(kind="transient", reason=f"connection failed: {error}")
        if isinstance(error, openai.APIStatusError):
            message, code = _error_message(error)
            kind = classify_status(error.status_code, message, code)
            return Fault(
                kind=kind,
                reason=f"HTTP {error.status_code}: {message}",
                status=error.status_code,
                code=code,
                retry_after=_retry_after(error) if kind == "throttle" else None,
                context_limit=context_limit(message) if kind == "context" else None,
            )
        if isinstance(
            error, openai.APIResponseValidationError | json.JSONDecodeError | EmptyAnswer
        ):
            # A 200 whose body could not be read (a proxy cut it, a server bug): try again.
            return Fault(kind="transient", reason=f"unreadable answer: {error}")
        return None


def headers(settings: EndpointSettings) -> dict[str, str] | None:
    """The role's extra headers, secrets revealed only here, for the wire."""
    return {k: v.get_secret_value() for k, v in settings.extra_headers.items()} or None


def _reasoning(extra: dict[str, Any] | None) -> str | None:
    extra = extra or {}
    value = extra.get("reasoning_content") or extra.get("reasoning")
    return value if isinstance(value, str) else None


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from LLM servers; fall back to our own backoff


def _error_message(error: openai.APIStatusError) -> tuple[str, str | None]:
    """The server's own message and error code, as far as its body says them."""
    body = error.body
    code: str | None = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            raw_code = inner.get("code") or inner.get("type")
            code = str(raw_code) if raw_code else None
            message = inner.get("message")
        else:
            message = body.get("message") or inner
        if message:
            return " ".join(str(message).split())[:500].rstrip("."), code
    return error.message, code
