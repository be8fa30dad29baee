"""The LLM coder: a draft, improve or debug step as one call to the coder endpoint.

Steering (``steerable_prefill``) opens the model's reasoning with our own: over raw
completions the prompt ends inside an open ``<think>`` block; over chat, where the endpoint
continues a last assistant message marked ``prefix`` (DeepSeek's chat prefix completion), that
message holds it. Where neither works the coder says so once and runs unsteered.

Faults: a prompt over the context length is shrunk (memory, data preview, parent output) and
sent once more; a refused request (content filter, rejected parameter) becomes an answer
without code whose ``refused`` reason the step records on its node. Fatal faults and
exhausted retries propagate.
"""

from __future__ import annotations

import time
from typing import Any

from mlmaster.llm.client import Completion, Endpoint, LLMError
from mlmaster.llm.extract import extract_plan_and_code
from mlmaster.llm.fitting import LADDER, Cuts, apply_cuts, estimate_tokens, fit, prompt_budget
from mlmaster.llm.prompting import (
    PromptParts,
    completion_prompt,
    render_code_prompt,
)
from mlmaster.llm.reasoning import CLOSE_TAG, OPEN_TAG, ReasoningStyle, split_reasoning
from mlmaster.llm.requests import CodeAnswer, CodeRequest, Exchange, Role
from mlmaster.logs import get_logger

log = get_logger(__name__)

# What the retry after a context-length error aims at when the error named no limit.
SHRINK_FACTOR = 0.6


def exchange_from(
    completion: Completion, *, role: Role, node_id: str, started_at: float
) -> Exchange:
    """What is kept of one call with its node (record and replay)."""
    text = completion.text
    if completion.tool_calls:
        # The tool's arguments are the answer a reviewer reads; keep them as the text.
        text = completion.tool_calls[0].arguments
    return Exchange(
        role=role,
        node_id=node_id,
        api_style=completion.api_style,
        model=completion.model,
        request=completion.request,
        response_text=text,
        reasoning=completion.reasoning_field,
        usage=completion.usage,
        latency=completion.latency,
        attempts=completion.attempts,
        started_at=started_at,
        accounted=completion.accounted,
    )


class LLMCoder:
    """Implements ``Coder.generate`` over an LLM endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        no_code_retries: int = 1,
    ) -> None:
        self.endpoint = endpoint
        # A fresh call when an answer holds no script (a refusal, a cut-off reasoning). Only the
        # call whose answer is used becomes the exchange; the accountant counts them all.
        self.no_code_retries = no_code_retries
        settings = endpoint.settings
        self.steer = settings.steerable_prefill
        if self.steer and settings.api_style == "chat" and not settings.prefix_completion:
            log.warning(
                "llm.unsteered",
                role=endpoint.role,
                reason="steering needs api_style = completions, or a chat endpoint with "
                "prefix completion (llm.coder.prefix_completion); running unsteered",
            )
            self.steer = False
        # Learned from the server (its model card or a context-length error), else the setting.
        self.context_length = settings.context_length

    async def generate(self, request: CodeRequest) -> CodeAnswer:
        answer = await self._generate_fitted(request)
        for _ in range(self.no_code_retries):
            if answer.code is not None or answer.refused is not None:
                break
            log.info("llm.no_code_retry", node=request.node_id)
            answer = await self._generate_fitted(request)
        return answer

    async def _generate_fitted(self, request: CodeRequest) -> CodeAnswer:
        budget = prompt_budget(self.context_length, self.endpoint.settings.max_tokens)
        rung, prompt = fit(lambda cuts: self._prompt_text(request, cuts), budget)
        try:
            return await self._generate_once(request, rung)
        except LLMError as error:
            if error.kind == "request":
                return _refused(error)
            if error.kind != "context":
                raise
            if error.context_limit is not None:
                self.context_length = error.context_limit
            budget = prompt_budget(self.context_length, self.endpoint.settings.max_tokens)
            if error.context_limit is None:
                budget = int(estimate_tokens(prompt) * SHRINK_FACTOR)
            rung, _ = fit(lambda cuts: self._prompt_text(request, cuts), budget, start=rung + 1)
            log.warning("llm.prompt_shrunk", node=request.node_id, rung=rung, budget=budget)
        try:
            return await self._generate_once(request, rung)
        except LLMError as error:
            if error.kind in ("request", "context"):
                return _refused(error)
            raise

    def _parts(self, request: CodeRequest, cuts: Cuts) -> PromptParts:
        return render_code_prompt(
            apply_cuts(request, cuts),
            steer=self.steer,
            parent_output_chars=cuts.parent_output_chars,
        )

    def _prompt_text(self, request: CodeRequest, cuts: Cuts) -> str:
        parts = self._parts(request, cuts)
        return parts.system + parts.user + (parts.think_prefix or "")

    async def _generate_once(self, request: CodeRequest, rung: int) -> CodeAnswer:
        settings = self.endpoint.settings
        cuts = LADDER[rung]
        started_at = time.time()
        if settings.api_style == "completions":
            parts = self._parts(request, cuts)
            prompt = completion_prompt(parts, settings.prompt_template, settings.model)
            completion = await self.endpoint.complete(prompt)
        else:
            completion = await self._chat(request, cuts)
        exchange = exchange_from(
            completion, role="coder", node_id=request.node_id, started_at=started_at
        )
        style: ReasoningStyle = settings.reasoning_style
        if self.steer:
            # The answer begins inside the reasoning we opened, unless the model kept its own
            # reasoning in a separate field and answered in the content (chat prefix).
            chat_field = settings.api_style == "chat" and CLOSE_TAG not in completion.text
            style = "reasoning-field" if chat_field else "think-tags"
        return answer_from_text(exchange, reasoning_style=style, prefilled=self.steer)

    async def _chat(self, request: CodeRequest, cuts: Cuts) -> Completion:
        parts = self._parts(request, cuts)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": parts.system},
            {"role": "user", "content": parts.user},
        ]
        if not self.steer or parts.think_prefix is None:
            return await self.endpoint.chat(messages)
        opening = f"{OPEN_TAG}\n{parts.think_prefix}"
        prefix = {"role": "assistant", "content": opening, "prefix": True}
        try:
            return await self.endpoint.chat([*messages, prefix])
        except LLMError as error:
            if error.kind != "request":
                raise
        log.warning(
            "llm.unsteered",
            role=self.endpoint.role,
            reason="the endpoint refused a prefixed assistant message; running unsteered",
        )
        self.steer = False
        parts = self._parts(request, cuts)
        return await self.endpoint.chat(
            [{"role": "system", "content": parts.system}, {"role": "user", "content": parts.user}]
        )


def _refused(error: LLMError) -> CodeAnswer:
    log.warning("llm.request_refused", status=error.status, kind=error.kind)
    return CodeAnswer(text="", refused=f"the coder's request was refused: {error}")


def answer_from_text(
    exchange: Exchange, *, reasoning_style: ReasoningStyle, prefilled: bool
) -> CodeAnswer:
    """Reasoning, plan and code out of one exchange's answer (also used by replay)."""
    answer, reasoning = split_reasoning(
        exchange.response_text,
        reasoning_style,
        reasoning_field=exchange.reasoning,
        prefilled=prefilled,
    )
    plan, code = extract_plan_and_code(answer)
    if reasoning is not None and exchange.reasoning is None:
        exchange = exchange.model_copy(update={"reasoning": reasoning})
    return CodeAnswer(
        text=exchange.response_text,
        reasoning=reasoning,
        plan=plan,
        code=code,
        exchange=exchange,
    )
