"""The start-up probe: one small request per role before a run, and what the run adapts to.

``mlmaster run`` (unless ``--no-check``) and ``mlmaster check`` send each LLM role a tiny
request built exactly as the run's will be. A wrong URL, key or model ends there, in one line
naming the role and the fix (:class:`ProbeFailure`, exit 2), before any run directory exists.
Otherwise the probe reports what the endpoint supports and adapts the role's settings:

- a parameter the model refuses is left out from then on (``max_tokens`` becomes
  ``max_completion_tokens`` where the server says so);
- an endpoint that does not serve raw completions is used over chat;
- a refused stream is read unstreamed;
- refused tools (or a refused forced ``tool_choice``) mean review by validated JSON (or an
  unforced choice);
- a refused ``prefix`` message means the coder runs unsteered;
- the context length the server reports fits the prompts.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

from mlmaster.errors import UserError
from mlmaster.llm.client import Completion, Endpoint, LLMError
from mlmaster.llm.requests import Role
from mlmaster.llm.review import REVIEW_TOOL, TOOL_NAME
from mlmaster.settings.model import EndpointSettings, Settings

PROBE_MAX_TOKENS = 32
PROBE_TIMEOUT = 120.0  # seconds: a reasoning model may think a while even on "say OK"
PROBE_PROMPT = "Reply with the single word OK."
# Keys a model card may state its context length under (vLLM, OpenRouter, others).
CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length")
_PARAMETER = re.compile(r"'(\w+)'")


class ProbeFailure(UserError):
    """The endpoint cannot serve the run: the message is one line naming role and fix."""


class RoleReport(BaseModel):
    role: Role
    provider: str
    base_url: str | None = None
    model: str | None = None
    api_style: Literal["chat", "completions"] | None = None
    streaming: Literal["yes", "no", "off"] = "off"
    tools: Literal["yes", "no", "ignored", "untested"] = "untested"
    reasoning_field: bool = False
    steering: Literal["completions", "prefix", "off", "refused"] = "off"
    context_length: int | None = None
    adapted: list[str] = []  # what the probe changed, one line each

    def line(self) -> str:
        """One line for a person: what works, and what was adapted."""
        if self.provider != "openai":
            return f"llm.{self.role}: {self.provider} (no endpoint to check)"
        facts = [f"api {self.api_style}", f"streaming {self.streaming}"]
        # Tools matter to the reviewer, steering to the coder.
        facts.append(
            f"tools {self.tools}" if self.role == "feedback" else f"steering {self.steering}"
        )
        facts += [
            f"reasoning field {'yes' if self.reasoning_field else 'no'}",
            f"context {self.context_length or 'unknown'}",
        ]
        text = f"llm.{self.role}: ok, model {self.model} at {self.base_url}: " + ", ".join(facts)
        if self.adapted:
            text += "; adapted: " + "; ".join(self.adapted)
        return text


async def check_settings(settings: Settings) -> tuple[Settings, list[RoleReport]]:
    """Probe every LLM role; the settings adapted to what the endpoints support."""
    reports = []
    adapted = settings.model_copy(deep=True)
    roles: tuple[Role, ...] = ("coder", "feedback")
    for role in roles:
        endpoint_settings = getattr(settings.llm, role)
        if endpoint_settings.provider != "openai":
            reports.append(RoleReport(role=role, provider=endpoint_settings.provider))
            continue
        report, changed = await probe_role(endpoint_settings, role)
        setattr(adapted.llm, role, changed)
        reports.append(report)
    return adapted, reports


async def probe_role(settings: EndpointSettings, role: Role) -> tuple[RoleReport, EndpointSettings]:
    """One role's verdict, and its settings as the run should use them."""
    if not settings.model:
        raise ProbeFailure(f"llm.{role}.model is not set; set MLMASTER_LLM__{role.upper()}__MODEL")
    prober = _Prober(settings, role)
    try:
        return await prober.run()
    finally:
        await prober.close()


class _Prober:
    def __init__(self, settings: EndpointSettings, role: Role) -> None:
        self.role = role
        self.settings = settings.model_copy(deep=True)
        self.report = RoleReport(
            role=role, provider="openai", base_url=settings.base_url, model=settings.model
        )
        self._endpoints: list[Endpoint] = []

    async def close(self) -> None:
        for endpoint in self._endpoints:
            await endpoint.close()

    def _endpoint(self) -> Endpoint:
        quick = self.settings.model_copy(
            update={
                "retries": min(self.settings.retries, 1),
                "request_timeout": min(self.settings.request_timeout, PROBE_TIMEOUT),
                "max_tokens": PROBE_MAX_TOKENS,
            }
        )
        endpoint = Endpoint(quick, self.role, backoff_base=0.5, backoff_max=2.0)
        self._endpoints.append(endpoint)
        return endpoint

    def _adapt(self, note: str, **changes: Any) -> None:
        self.settings = self.settings.model_copy(update=changes)
        self.report.adapted.append(note)

    def _fail(self, error: LLMError) -> ProbeFailure:
        return ProbeFailure(str(error))  # it names the role, the endpoint and the fix

    async def run(self) -> tuple[RoleReport, EndpointSettings]:
        completion = await self._first_answer()
        self.report.api_style = self.settings.api_style
        self.report.streaming = "yes" if self.settings.stream else "off"
        self.report.reasoning_field = completion.reasoning_field is not None
        if self.role == "feedback":
            await self._tools()
        if self.role == "coder":
            await self._steering()
        await self._context_length()
        self.report.context_length = self.settings.context_length
        return self.report, self.settings

    async def _send(self, **extra: Any) -> Completion:
        endpoint = self._endpoint()
        if self.settings.api_style == "completions":
            return await endpoint.complete(f"{PROBE_PROMPT}\n")
        messages = [{"role": "user", "content": PROBE_PROMPT}, *extra.pop("after", [])]
        return await endpoint.chat(messages, **extra)

    async def _first_answer(self) -> Completion:
        """The plain request, adapting until it passes (each adaptation at most once)."""
        for _ in range(6):
            try:
                return await self._send()
            except LLMError as error:
                if not self._adapt_to(error):
                    raise self._fail(error) from None
        raise ProbeFailure(f"llm.{self.role}: the endpoint refused every variant of a request")

    def _adapt_to(self, error: LLMError) -> bool:
        """Change one setting that explains ``error``; False when none does."""
        if error.kind == "request" and self._adapt_parameters(str(error)):
            return True
        if self.settings.api_style == "completions" and error.status in (400, 404, 405):
            self._adapt("the endpoint does not serve raw completions: using chat", api_style="chat")
            return True
        return False

    def _adapt_parameters(self, message: str) -> bool:
        """Leave out (or rename) the parameter a refusal names; False when it names none."""
        if self.settings.stream and "stream" in message.lower():
            self._adapt("streaming refused: answers are read whole", stream=False)
            return True
        for name in _PARAMETER.findall(message):
            if name == "max_tokens" and "max_completion_tokens" in message:
                self._adapt(
                    "max_tokens refused: sent as max_completion_tokens",
                    max_tokens_field="max_completion_tokens",
                )
                return True
            if name in ("temperature", "top_p") and name not in self.settings.unsupported_params:
                self._adapt(
                    f"{name} refused: left out",
                    unsupported_params=[*self.settings.unsupported_params, name],
                )
                return True
        return False

    async def _tools(self) -> None:
        settings = self.settings
        if settings.api_style != "chat" or settings.function_calling == "off":
            return
        for _ in range(2):
            choice: Any = {"type": "function", "function": {"name": TOOL_NAME}}
            if not self.settings.force_tool_choice:
                choice = "auto"
            try:
                completion = await self._send(tools=[REVIEW_TOOL], tool_choice=choice)
            except LLMError as error:
                if error.kind != "request":
                    raise self._fail(error) from None
                if self.settings.force_tool_choice:
                    self._adapt(
                        "a forced tool_choice refused: the tool is offered, not forced",
                        force_tool_choice=False,
                    )
                    continue
                self._adapt("tools refused: reviews are validated JSON", function_calling="off")
                self.report.tools = "no"
                return
            called = any(call.name == TOOL_NAME for call in completion.tool_calls)
            self.report.tools = "yes" if called else "ignored"
            return

    async def _steering(self) -> None:
        settings = self.settings
        if not settings.steerable_prefill:
            return
        if settings.api_style == "completions":
            self.report.steering = "completions"
            return
        if not settings.prefix_completion:
            self.report.adapted.append(
                "steering needs raw completions or chat prefix completion: running unsteered"
            )
            return
        prefix = {"role": "assistant", "content": "<think>\nThe answer is", "prefix": True}
        try:
            await self._send(after=[prefix])
        except LLMError as error:
            if error.kind != "request":
                raise self._fail(error) from None
            self._adapt(
                "the endpoint refused a prefixed assistant message: running unsteered",
                prefix_completion=False,
            )
            self.report.steering = "refused"
            return
        self.report.steering = "prefix"

    async def _context_length(self) -> None:
        if self.settings.context_length is not None:
            return
        endpoint = self._endpoint()
        info = await endpoint.transport.model_info()
        for key in CONTEXT_KEYS:
            value = (info or {}).get(key)
            if isinstance(value, int) and value >= 256:
                self._adapt(f"context length {value} (from the server)", context_length=value)
                return
