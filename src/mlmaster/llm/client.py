"""The generic endpoint of one role: parameters, retries, the limiter, the clock, accounting.

Every provider shares this loop; what differs (the client library, the URL scheme, how errors
read) is the role's :class:`~mlmaster.llm.transport.Transport`. One call goes:

1. parameters from the settings: the token field the model wants, parameters it refuses left
   out, ``extra_body`` merged in;
2. a slot of the adaptive limiter (a 429 halves it);
3. the transport's request under a wall-clock cap of ``request_timeout``, streamed or not;
4. on failure the transport's :class:`~mlmaster.llm.faults.Fault`: transient faults and 429s
   are retried with backoff (honouring ``Retry-After``), anything else ends the call at once
   with an :class:`LLMError` of that kind, naming the endpoint, the model and the reason;
5. the usage (estimated where the server sent none) to the accountant.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
from pydantic import BaseModel

from mlmaster.errors import UserError
from mlmaster.llm.accounting import Accountant, call_cost
from mlmaster.llm.faults import Fault, FaultKind, fix_for
from mlmaster.llm.limiter import AdaptiveLimiter
from mlmaster.llm.presets import NEEDS_BASE_URL
from mlmaster.llm.requests import Role, Usage
from mlmaster.llm.transport import ToolCallResult, Transport, WireAnswer
from mlmaster.llm.transports import load_transport
from mlmaster.logs import get_logger
from mlmaster.settings.model import EndpointSettings

log = get_logger(__name__)

__all__ = ["Completion", "Endpoint", "LLMError", "ToolCallResult"]


class LLMError(UserError):
    """A call that could not be completed; the message says where, why and what to do.

    ``kind`` is the fault policy's verdict (see :mod:`mlmaster.llm.faults`): ``fatal`` ends
    the run, ``request`` and ``context`` fail the step, ``transient``/``throttle`` mean the
    retries ran out.
    """

    def __init__(
        self,
        message: str,
        *,
        role: Role,
        model: str | None,
        kind: FaultKind,
        status: int | None = None,
        attempts: int = 1,
        context_limit: int | None = None,
    ) -> None:
        super().__init__(message)
        self.role = role
        self.model = model
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.context_limit = context_limit

    @property
    def retryable(self) -> bool:
        """True: retries were exhausted on a transient fault."""
        return self.kind in ("transient", "throttle")

    @property
    def fatal(self) -> bool:
        """True: every call would fail alike (key, permission, model, URL): end the run."""
        return self.kind == "fatal"


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
    accounted: bool = False  # the endpoint counted it with its accountant


def _estimate_tokens(value: Any) -> int:
    """A rough count (4 characters a token): better for budgets than counting nothing."""
    text = value if isinstance(value, str) else json.dumps(value)
    return max(1, len(text) // 4) if text else 0


class Endpoint:
    """One role's LLM endpoint over its transport."""

    def __init__(
        self,
        settings: EndpointSettings,
        role: Role,
        *,
        accountant: Accountant | None = None,
        limiter: AdaptiveLimiter | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        transport: Transport | None = None,
    ) -> None:
        _check(settings, role)
        self.settings = settings
        self.role = role
        self.accountant = accountant
        self.limiter = limiter or AdaptiveLimiter(settings.concurrency)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self.transport = transport or load_transport(settings.transport)(settings, api_key)

    @property
    def model(self) -> str | None:
        return self.settings.model

    @property
    def name(self) -> str:
        return f"llm.{self.role} ({self.settings.base_url or 'api.openai.com'})"

    async def close(self) -> None:
        await self.transport.close()

    # -- requests -----------------------------------------------------------------------------

    def parameters(self) -> dict[str, Any]:
        """The request's parameters besides messages or prompt, as the settings ask."""
        settings = self.settings
        params: dict[str, Any] = {"model": settings.model or ""}
        body: dict[str, Any] = dict(settings.extra_body)
        if settings.temperature is not None:
            params["temperature"] = settings.temperature
        if settings.max_tokens is not None:
            params[settings.max_tokens_field] = settings.max_tokens
        for name in settings.unsupported_params:
            params.pop(name, None)
        # The SDK's typed methods know only the official fields: the rest go in the body.
        known = {"model", "temperature", "max_tokens", "max_completion_tokens"}
        for name in [key for key in params if key not in known]:
            body[name] = params.pop(name)
        if body:
            params["extra_body"] = body
        return params

    async def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> Completion:
        params = self.parameters()
        params["messages"] = messages
        if tools:
            params["tools"] = tools
            if tool_choice is not None:
                params["tool_choice"] = tool_choice
        return await self._run(
            "chat", params, lambda: self.transport.chat(params, stream=self.settings.stream)
        )

    async def complete(self, prompt: str) -> Completion:
        params = self.parameters()
        if "max_completion_tokens" in params:
            # The completions API knows only max_tokens' spelling; the server decides.
            extra = params.setdefault("extra_body", {})
            extra["max_completion_tokens"] = params.pop("max_completion_tokens")
        params["prompt"] = prompt
        return await self._run(
            "completions",
            params,
            lambda: self.transport.complete(params, stream=self.settings.stream),
        )

    def _completion(
        self, api_style: Literal["chat", "completions"], params: dict[str, Any], wire: WireAnswer
    ) -> Completion:
        prompt = params.get("messages", params.get("prompt", ""))
        # Some servers send no usage, or a usage with counts left out: estimate those.
        input_tokens = wire.input_tokens
        if input_tokens is None:
            input_tokens = _estimate_tokens(prompt)
        output_tokens = wire.output_tokens
        if output_tokens is None:
            output_tokens = _estimate_tokens(wire.text + (wire.reasoning_field or ""))
        cost = call_cost(
            input_tokens, output_tokens, self.settings.price_input, self.settings.price_output
        )
        return Completion(
            api_style=api_style,
            model=self.model,
            request=params,
            text=wire.text,
            reasoning_field=wire.reasoning_field,
            tool_calls=wire.tool_calls,
            finish_reason=wire.finish_reason,
            usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens, cost=cost),
        )

    # -- the retry loop -----------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, base * 2^attempt], capped."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    async def _run(
        self,
        api_style: Literal["chat", "completions"],
        params: dict[str, Any],
        call: Callable[[], Awaitable[WireAnswer]],
    ) -> Completion:
        started = time.monotonic()
        tries = self.settings.retries + 1
        last: Fault | None = None
        for attempt in range(tries):
            async with self.limiter:
                fault, wire = await self._attempt(call)
            if wire is not None:
                return self._succeeded(api_style, params, wire, attempt + 1, started)
            assert fault is not None
            last = fault
            if fault.kind == "throttle":
                self.limiter.on_throttle()
            if not fault.retryable:
                self._account_failure(attempt + 1, started)
                raise self._error(fault, attempt + 1)
            if attempt + 1 >= tries:
                break
            delay = fault.retry_after if fault.retry_after is not None else self.backoff(attempt)
            log.warning(
                "llm.retry",
                role=self.role,
                model=self.model,
                reason=fault.reason,
                attempt=attempt + 1,
                delay=round(delay, 3),
            )
            await self._sleep(min(delay, self.backoff_max))
        assert last is not None
        self._account_failure(tries, started)
        raise LLMError(
            f"{self.name}, model {self.model!r}: gave up after {tries} attempts; last: "
            f"{last.reason}. Check that the server is up and not overloaded, or raise "
            f"llm.{self.role}.retries / request_timeout.",
            role=self.role,
            model=self.model,
            kind=last.kind,
            status=last.status,
            attempts=tries,
        )

    async def _attempt(
        self, call: Callable[[], Awaitable[WireAnswer]]
    ) -> tuple[Fault | None, WireAnswer | None]:
        """One try under the wall-clock cap: the answer, or the fault it met."""
        timeout = self.settings.request_timeout
        try:
            with anyio.fail_after(timeout):
                return None, await call()
        except TimeoutError:
            # The whole call, a stream that never ends included, is capped here.
            return Fault(kind="transient", reason=f"no full answer within {timeout:g}s"), None
        except Exception as error:
            fault = self.transport.classify(error)
            if fault is None:
                raise
            return fault, None

    def _succeeded(
        self,
        api_style: Literal["chat", "completions"],
        params: dict[str, Any],
        wire: WireAnswer,
        attempts: int,
        started: float,
    ) -> Completion:
        self.limiter.on_success()
        completion = self._completion(api_style, params, wire)
        completion.latency = time.monotonic() - started
        completion.attempts = attempts
        log.debug(
            "llm.call",
            role=self.role,
            model=self.model,
            input_tokens=completion.usage.input_tokens,
            output_tokens=completion.usage.output_tokens,
            latency=round(completion.latency, 3),
            attempts=attempts,
        )
        if self.accountant is not None:
            self.accountant.add(
                self.role, completion.usage, latency=completion.latency, attempts=attempts
            )
            completion.accounted = True
        return completion

    def _error(self, fault: Fault, attempts: int) -> LLMError:
        where = f"{self.name}, model {self.model!r}: {fault.reason}"
        if fault.kind == "fatal":
            message = f"{where}. Not retried: {fix_for(fault, self.role)}."
        else:
            message = f"{where}. Not retried: this request was refused."
        return LLMError(
            message,
            role=self.role,
            model=self.model,
            kind=fault.kind,
            status=fault.status,
            attempts=attempts,
            context_limit=fault.context_limit,
        )

    def _account_failure(self, attempts: int, started: float) -> None:
        if self.accountant is not None:
            self.accountant.add_failure(
                self.role, attempts=attempts, latency=time.monotonic() - started
            )


def _check(settings: EndpointSettings, role: Role) -> None:
    """Settings an endpoint cannot work without, each named with its variable."""
    variable = f"MLMASTER_LLM__{role.upper()}__"
    if settings.base_url is None and settings.preset in NEEDS_BASE_URL:
        raise UserError(
            f"llm.{role}.base_url is not set: the {settings.preset} preset talks to your own "
            f"server; set {variable}BASE_URL (e.g. http://localhost:8000/v1)"
        )
    if settings.base_url is not None and not settings.base_url.startswith(("http://", "https://")):
        raise UserError(
            f"llm.{role}.base_url {settings.base_url!r} is not an http(s) URL; "
            "give the server's OpenAI-compatible root, e.g. http://localhost:8000/v1"
        )
    if settings.api_key is None and settings.base_url is None:
        raise UserError(
            f"llm.{role}: no api_key and no base_url; set {variable}API_KEY (or a base_url "
            "for a local server), or use provider = offline"
        )
