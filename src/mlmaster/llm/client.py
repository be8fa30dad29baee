"""One OpenAI-compatible endpoint: a client, a concurrency limiter, our retry loop, accounting.

The SDK's own retries are off (``max_retries=0``) so that one loop decides: 429 (honouring
``Retry-After``, and shrinking the limiter), 5xx, timeouts, connection errors and unreadable
answers are retried with exponential backoff and jitter; any other 4xx ends the call at once
with an :class:`LLMError` that names the endpoint, the model and the status.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import openai
from pydantic import BaseModel

from mlmaster.errors import UserError
from mlmaster.llm.accounting import Accountant, call_cost
from mlmaster.llm.limiter import AdaptiveLimiter
from mlmaster.llm.requests import Role, Usage
from mlmaster.logs import get_logger
from mlmaster.settings.model import EndpointSettings

log = get_logger(__name__)

# A local server (vLLM, Ollama) wants no key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


class LLMError(UserError):
    """A call that could not be completed; the message says where, why and what to do."""

    def __init__(
        self,
        message: str,
        *,
        role: Role,
        model: str | None,
        status: int | None = None,
        retryable: bool = False,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.role = role
        self.model = model
        self.status = status
        self.retryable = retryable  # True: retries were exhausted on a transient fault
        self.attempts = attempts


class ToolCallResult(BaseModel):
    name: str
    arguments: str


class Completion(BaseModel):
    """What one successful call returned, and what it cost."""

    api_style: Literal["chat", "completions"]
    model: str | None
    request: dict[str, Any]  # the parameters sent (messages or prompt included)
    text: str
    reasoning_field: str | None = None  # reasoning_content / reasoning, when the server sent it
    tool_calls: list[ToolCallResult] = []
    finish_reason: str | None = None
    usage: Usage = Usage()
    latency: float = 0.0  # seconds, all attempts and waits included
    attempts: int = 1


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another try after ``delay`` seconds."""

    def __init__(self, reason: str, delay: float | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.status = status


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from LLM servers; fall back to our own backoff


def _estimate_tokens(value: Any) -> int:
    """A rough count (4 characters a token): better for budgets than counting nothing."""
    text = value if isinstance(value, str) else json.dumps(value)
    return max(1, len(text) // 4) if text else 0


class Endpoint:
    """An OpenAI-compatible endpoint for one role."""

    def __init__(
        self,
        settings: EndpointSettings,
        role: Role,
        *,
        accountant: Accountant | None = None,
        limiter: AdaptiveLimiter | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.role = role
        self.accountant = accountant
        self.limiter = limiter or AdaptiveLimiter(settings.concurrency)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        if settings.base_url is not None and not settings.base_url.startswith(
            ("http://", "https://")
        ):
            raise UserError(
                f"llm.{role}.base_url {settings.base_url!r} is not an http(s) URL; "
                "give the server's OpenAI-compatible root, e.g. http://localhost:8000/v1"
            )
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        if api_key is None and settings.base_url is None:
            raise UserError(
                f"llm.{role}: no api_key and no base_url; set "
                f"MLMASTER_LLM__{role.upper()}__API_KEY (or a base_url for a local server), "
                "or use provider = offline"
            )
        self.client = openai.AsyncOpenAI(
            api_key=api_key or PLACEHOLDER_KEY,
            base_url=settings.base_url,
            timeout=settings.request_timeout,
            max_retries=0,
        )

    @property
    def model(self) -> str | None:
        return self.settings.model

    @property
    def name(self) -> str:
        return f"llm.{self.role} ({self.settings.base_url or 'api.openai.com'})"

    async def close(self) -> None:
        await self.client.close()

    # -- requests -----------------------------------------------------------------------------

    def _parameters(self, *, completions: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.settings.model or ""}
        if self.settings.temperature is not None:
            # Only when set: some reasoning models refuse any temperature at all.
            params["temperature"] = self.settings.temperature
        if self.settings.max_tokens is not None:
            field = self.settings.max_tokens_field
            if completions and field == "max_completion_tokens":
                params["extra_body"] = {field: self.settings.max_tokens}
            else:
                params[field] = self.settings.max_tokens
        return params

    async def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> Completion:
        params = self._parameters(completions=False)
        params["messages"] = messages
        if tools:
            params["tools"] = tools
            if tool_choice is not None:
                params["tool_choice"] = tool_choice

        if self.settings.stream:
            params["stream"] = True
            params["stream_options"] = {"include_usage": True}
            return await self._run(lambda: self._chat_streamed(params))

        async def call() -> Completion:
            response = await self.client.chat.completions.create(**params)
            if not response.choices:
                raise _Retry("the answer had no choices")
            choice = response.choices[0]
            message = choice.message
            extra = message.model_extra or {}
            reasoning = extra.get("reasoning_content") or extra.get("reasoning")
            return Completion(
                api_style="chat",
                model=self.model,
                request=params,
                text=message.content or "",
                reasoning_field=reasoning if isinstance(reasoning, str) else None,
                tool_calls=[
                    ToolCallResult(name=tc.function.name, arguments=tc.function.arguments)
                    for tc in message.tool_calls or []
                    if tc.type == "function"
                ],
                finish_reason=choice.finish_reason,
                usage=self._usage(response.usage, messages, message.content or ""),
            )

        return await self._run(call)

    async def _chat_streamed(self, params: dict[str, Any]) -> Completion:
        """One streamed chat call, its deltas put back together."""
        text, reasoning = [], []
        calls: dict[int, ToolCallResult] = {}
        finish_reason: str | None = None
        usage: Any = None
        stream = await self.client.chat.completions.create(**params)
        async for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices[:1]:
                delta = choice.delta
                text.append(delta.content or "")
                extra = delta.model_extra or {}
                piece = extra.get("reasoning_content") or extra.get("reasoning")
                if isinstance(piece, str):
                    reasoning.append(piece)
                for call in delta.tool_calls or []:
                    slot = calls.setdefault(call.index, ToolCallResult(name="", arguments=""))
                    if call.function is not None:
                        slot.name += call.function.name or ""
                        slot.arguments += call.function.arguments or ""
                finish_reason = choice.finish_reason or finish_reason
        answer = "".join(text)
        return Completion(
            api_style="chat",
            model=self.model,
            request=params,
            text=answer,
            reasoning_field="".join(reasoning) or None,
            tool_calls=[calls[index] for index in sorted(calls)],
            finish_reason=finish_reason,
            usage=self._usage(usage, params["messages"], answer),
        )

    async def _complete_streamed(self, params: dict[str, Any]) -> Completion:
        """One streamed completions call, its pieces joined."""
        text: list[str] = []
        finish_reason: str | None = None
        usage: Any = None
        stream = await self.client.completions.create(**params)
        async for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices[:1]:
                text.append(choice.text or "")
                finish_reason = choice.finish_reason or finish_reason
        answer = "".join(text)
        return Completion(
            api_style="completions",
            model=self.model,
            request=params,
            text=answer,
            finish_reason=finish_reason,
            usage=self._usage(usage, params["prompt"], answer),
        )

    async def complete(self, prompt: str) -> Completion:
        params = self._parameters(completions=True)
        params["prompt"] = prompt
        if self.settings.stream:
            params["stream"] = True
            params["stream_options"] = {"include_usage": True}
            return await self._run(lambda: self._complete_streamed(params))

        async def call() -> Completion:
            response = await self.client.completions.create(**params)
            if not response.choices:
                raise _Retry("the answer had no choices")
            choice = response.choices[0]
            return Completion(
                api_style="completions",
                model=self.model,
                request=params,
                text=choice.text or "",
                finish_reason=choice.finish_reason,
                usage=self._usage(response.usage, prompt, choice.text or ""),
            )

        return await self._run(call)

    def _usage(self, usage: Any, prompt: Any, answer: str) -> Usage:
        # Some servers send no usage, or a usage with counts left out: estimate those.
        input_tokens = getattr(usage, "prompt_tokens", None)
        output_tokens = getattr(usage, "completion_tokens", None)
        if input_tokens is None:
            input_tokens = _estimate_tokens(prompt)
        if output_tokens is None:
            output_tokens = _estimate_tokens(answer)
        cost = call_cost(
            input_tokens, output_tokens, self.settings.price_input, self.settings.price_output
        )
        return Usage(input_tokens=input_tokens, output_tokens=output_tokens, cost=cost)

    # -- the retry loop -----------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, base * 2^attempt], capped."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def _run(self, call: Callable[[], Awaitable[Completion]]) -> Completion:
        started = time.monotonic()
        tries = self.settings.retries + 1
        last: _Retry | None = None
        for attempt in range(tries):
            try:
                async with self.limiter:
                    completion = await self._attempt(call)
            except _Retry as retry:
                last = retry
                if attempt + 1 >= tries:
                    break
                delay = retry.delay if retry.delay is not None else self.backoff(attempt)
                log.warning(
                    "llm.retry",
                    role=self.role,
                    model=self.model,
                    reason=retry.reason,
                    attempt=attempt + 1,
                    delay=round(delay, 3),
                )
                await self._sleep(min(delay, self.backoff_max))
                continue
            except LLMError as error:
                error.attempts = attempt + 1
                self._account_failure(attempt + 1, started)
                raise
            self.limiter.on_success()
            completion.latency = time.monotonic() - started
            completion.attempts = attempt + 1
            log.debug(
                "llm.call",
                role=self.role,
                model=self.model,
                input_tokens=completion.usage.input_tokens,
                output_tokens=completion.usage.output_tokens,
                latency=round(completion.latency, 3),
                attempts=completion.attempts,
            )
            if self.accountant is not None:
                self.accountant.add(
                    self.role, completion.usage, latency=completion.latency, attempts=attempt + 1
                )
            return completion
        assert last is not None
        self._account_failure(tries, started)
        raise LLMError(
            f"{self.name}, model {self.model!r}: gave up after {tries} attempts; last: "
            f"{last.reason}. Check that the server is up and not overloaded, or raise "
            f"llm.{self.role}.retries / request_timeout.",
            role=self.role,
            model=self.model,
            status=last.status,
            retryable=True,
            attempts=tries,
        )

    def _account_failure(self, attempts: int, started: float) -> None:
        if self.accountant is not None:
            self.accountant.add_failure(
                self.role, attempts=attempts, latency=time.monotonic() - started
            )

    async def _attempt(self, call: Callable[[], Awaitable[Completion]]) -> Completion:
        """One try: the SDK's errors sorted into retry-worthy and final."""
        try:
            return await call()
        except openai.RateLimitError as error:
            self.limiter.on_throttle()
            raise _Retry("429 rate limited", _retry_after(error), 429) from error
        except openai.APITimeoutError as error:
            raise _Retry(f"no answer within {self.settings.request_timeout:g}s") from error
        except openai.APIConnectionError as error:
            # Also a stream cut halfway: the SDK reports it as a connection error.
            raise _Retry(f"connection failed: {error}") from error
        except openai.APIStatusError as error:
            if error.status_code >= 500 or error.status_code in (408, 409):
                raise _Retry(
                    f"server error {error.status_code}", None, error.status_code
                ) from error
            raise LLMError(
                f"{self.name}, model {self.model!r}: HTTP {error.status_code}: "
                f"{_error_message(error)}. This is not retried: check the model name, the API "
                f"key and the parameters in llm.{self.role}.",
                role=self.role,
                model=self.model,
                status=error.status_code,
            ) from error
        except (openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as error:
            # A 200 whose body could not be read (a proxy cut it, a server bug): try again.
            raise _Retry(f"unreadable answer: {error}") from error


def _error_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error", {})
        if isinstance(message, dict):
            message = message.get("message")
        if message:
            return str(message)
    return error.message
