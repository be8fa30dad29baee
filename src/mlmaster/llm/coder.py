"""The LLM coder: a draft, improve or debug step as one call to the coder endpoint."""

from __future__ import annotations

import time

from mlmaster.errors import UserError
from mlmaster.llm.client import Completion, Endpoint
from mlmaster.llm.extract import extract_plan_and_code
from mlmaster.llm.prompting import (
    DEFAULT_PACKAGES,
    completion_prompt,
    render_code_prompt,
)
from mlmaster.llm.reasoning import ReasoningStyle, split_reasoning
from mlmaster.llm.requests import CodeAnswer, CodeRequest, Exchange, Role
from mlmaster.logs import get_logger

log = get_logger(__name__)


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
    )


class LLMCoder:
    """Implements ``Coder.generate`` over an OpenAI-compatible endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        packages: tuple[str, ...] = DEFAULT_PACKAGES,
        no_code_retries: int = 1,
    ) -> None:
        settings = endpoint.settings
        if settings.steerable_prefill and settings.api_style != "completions":
            raise UserError(
                f"llm.{endpoint.role}: steerable_prefill needs api_style = completions (the "
                "prompt must end inside an open <think> block); turn one of them off"
            )
        self.endpoint = endpoint
        self.packages = packages
        # A fresh call when an answer holds no script (a refusal, a cut-off reasoning). Only the
        # call whose answer is used becomes the exchange; the accountant counts them all.
        self.no_code_retries = no_code_retries

    async def generate(self, request: CodeRequest) -> CodeAnswer:
        answer = await self._generate_once(request)
        for _ in range(self.no_code_retries):
            if answer.code is not None:
                break
            log.info("llm.no_code_retry", node=request.node_id)
            answer = await self._generate_once(request)
        return answer

    async def _generate_once(self, request: CodeRequest) -> CodeAnswer:
        settings = self.endpoint.settings
        steer = settings.steerable_prefill
        parts = render_code_prompt(request, steer=steer, packages=self.packages)
        started_at = time.time()
        if settings.api_style == "completions":
            prompt = completion_prompt(parts, settings.prompt_template, settings.model)
            completion = await self.endpoint.complete(prompt)
        else:
            completion = await self.endpoint.chat(
                [
                    {"role": "system", "content": parts.system},
                    {"role": "user", "content": parts.user},
                ]
            )
        exchange = exchange_from(
            completion, role="coder", node_id=request.node_id, started_at=started_at
        )
        return answer_from_text(
            exchange,
            reasoning_style=settings.reasoning_style,
            prefilled=steer,
        )


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
