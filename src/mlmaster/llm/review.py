"""The LLM reviewer: was the run buggy, what did it show, which metric did it print.

The facts come first and without the model: the metric line the script printed, the exit
status, the validation server's verdict. The model reads the output for what needs reading (a
silent bug, a summary). It answers through a forced tool call where the endpoint supports it,
else as JSON checked against :class:`Verdict`, with one repair attempt. An unusable answer never
fails the step: the review then says why in ``Review.error`` and decides from the facts alone.
"""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator

from mlmaster.llm.client import Completion, Endpoint, LLMError
from mlmaster.llm.coder import exchange_from
from mlmaster.llm.extract import parse_metric_line
from mlmaster.llm.fitting import estimate_tokens, prompt_budget
from mlmaster.llm.prompting import (
    PromptParts,
    completion_prompt,
    render_repair,
    render_review_prompt,
)
from mlmaster.llm.reasoning import split_reasoning
from mlmaster.llm.requests import Exchange, Review, ReviewRequest
from mlmaster.logs import get_logger

log = get_logger(__name__)

TOOL_NAME = "submit_review"
# (output chars, description chars) tried in turn when a review must fit a small context.
REVIEW_CUTS: tuple[tuple[int, int | None], ...] = (
    (3000, None),
    (3000, 2000),
    (1000, 800),
    (400, 300),
)
NO_TOOL_CALL = f"the reviewer answered without calling {TOOL_NAME}"


class Verdict(BaseModel):
    """What the model is asked for. The metric's direction is never asked: the task fixes it."""

    is_bug: bool
    summary: str
    metric: float | None = None

    @field_validator("metric")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        return value if value is None or math.isfinite(value) else None


REVIEW_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Submit the review of the script's run.",
        "parameters": {
            "type": "object",
            "properties": {
                "is_bug": {
                    "type": "boolean",
                    "description": "true if the run failed, has a bug, or made no valid submission",
                },
                "summary": {
                    "type": "string",
                    "description": "2-3 sentences: the empirical findings, or the bug and its "
                    "cause. Do not suggest fixes.",
                },
                "metric": {
                    "type": ["number", "null"],
                    "description": "the validation metric the output shows, or null",
                },
            },
            "required": ["is_bug", "summary", "metric"],
            "additionalProperties": False,
        },
    },
}

_JSON_BLOCK = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)


def parse_verdict(text: str) -> Verdict:
    """A :class:`Verdict` from a model's text: a ```json block, or the outermost braces."""
    candidates = [match.group(1) for match in _JSON_BLOCK.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        candidates.append(text[start : end + 1])
    if not candidates:
        raise ValueError("the answer holds no JSON object")
    problem = "the answer holds no JSON object"
    for candidate in candidates:
        try:
            return Verdict.model_validate(json.loads(candidate))
        except json.JSONDecodeError as error:
            problem = f"invalid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        except ValidationError as error:
            problem = "JSON does not match the schema: " + "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}"
                for e in error.errors()
            )
    raise ValueError(problem)


def decide(
    request: ReviewRequest, metric: float | None, verdict: Verdict | None
) -> tuple[bool, str | None]:
    """Buggy or not, and why: the facts first, the model's judgement last."""
    execution = request.execution
    if execution.timed_out:
        return True, f"the script ran past its time limit ({execution.runtime:.0f}s)"
    if execution.killed_reason is not None:
        return True, f"the script was killed ({execution.killed_reason})"
    if execution.exception is not None:
        return True, f"{execution.exception.type}: {execution.exception.message}"
    if execution.exit_code != 0:
        return True, f"the script exited with code {execution.exit_code}"
    if request.submission_valid is None:
        return True, "the script wrote no ./submission/submission.csv"
    if request.submission_valid is False:
        return True, f"the submission was rejected: {request.submission_message}"
    if metric is None:
        return True, "the script printed no validation metric"
    if verdict is not None and verdict.is_bug:
        return True, verdict.summary
    return False, None


class LLMReviewer:
    """Implements ``Reviewer.review`` over an LLM endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        mode = endpoint.settings.function_calling
        # Tools exist only on the chat API; "auto" tries them once and remembers a refusal.
        self._use_tools = mode != "off" and endpoint.settings.api_style == "chat"
        self._tools_required = mode == "on"

    async def review(self, request: ReviewRequest) -> Review:
        metric = request.metric_from_output
        if metric is None:
            metric = parse_metric_line(request.execution.stdout.text)
        verdict: Verdict | None = None
        error: str | None = None
        exchange: Exchange | None = None
        try:
            verdict, exchange, error = await self._ask(request, metric)
        except LLMError as failure:
            if failure.fatal:
                raise  # a bad key or model fails every call alike: the run must end
            error = f"the reviewer could not be reached: {failure}"
        if error is not None:
            log.warning("llm.review_error", node=request.node_id, error=error)
        if metric is None and verdict is not None:
            metric = verdict.metric  # no metric line: what the model read in the output
        buggy, reason = decide(request, metric, verdict)
        summary = verdict.summary if verdict is not None else (reason or "")
        return Review(
            buggy=buggy,
            summary=summary,
            metric=metric if not buggy else None,
            bug_reason=reason,
            error=error,
            exchange=exchange,
        )

    async def _ask(
        self, request: ReviewRequest, metric: float | None
    ) -> tuple[Verdict | None, Exchange | None, str | None]:
        if self._use_tools:
            try:
                verdict, exchange, problem = await self._ask_with_tool(request, metric)
            except LLMError as failure:
                if self._tools_required or failure.kind != "request":
                    raise
                # The endpoint refused tools: JSON from now on.
                log.info("llm.tools_unsupported", status=failure.status)
                self._use_tools = False
            else:
                if verdict is not None or self._tools_required:
                    return verdict, exchange, problem
                if problem == NO_TOOL_CALL:
                    # The model answered in prose, not by the tool: it does not do tools here.
                    log.info("llm.tools_ignored")
                    self._use_tools = False
        return await self._ask_json(request, metric)

    def _prompt(
        self, request: ReviewRequest, metric: float | None, *, json_mode: bool
    ) -> PromptParts:
        """The review prompt, shortened (output, then description) to fit a known context."""
        settings = self.endpoint.settings
        budget = prompt_budget(settings.context_length, settings.max_tokens)
        parts = render_review_prompt(request, metric, json_mode=json_mode)
        for output_chars, description_chars in REVIEW_CUTS:
            if budget is None or estimate_tokens(parts.system + parts.user) <= budget:
                break
            parts = render_review_prompt(
                request,
                metric,
                json_mode=json_mode,
                output_chars=output_chars,
                description_chars=description_chars,
            )
        return parts

    def _tool_choice(self) -> Any:
        if self.endpoint.settings.force_tool_choice:
            return {"type": "function", "function": {"name": TOOL_NAME}}
        return "auto"  # thinking models refuse a forced choice; a prose answer falls back

    async def _call(self, messages: list[dict[str, Any]], **tools: Any) -> Completion:
        settings = self.endpoint.settings
        if settings.api_style == "completions":
            system = messages[0]["content"]
            user = "\n\n".join(m["content"] for m in messages[1:])
            prompt = completion_prompt(
                PromptParts(system=system, user=user), settings.prompt_template, settings.model
            )
            return await self.endpoint.complete(prompt)
        return await self.endpoint.chat(messages, **tools)

    def _answer(self, completion: Completion) -> str:
        answer, _ = split_reasoning(
            completion.text,
            self.endpoint.settings.reasoning_style,
            reasoning_field=completion.reasoning_field,
        )
        return answer

    async def _ask_with_tool(
        self, request: ReviewRequest, metric: float | None
    ) -> tuple[Verdict | None, Exchange, str | None]:
        parts = self._prompt(request, metric, json_mode=False)
        started = time.time()
        completion = await self._call(
            [{"role": "system", "content": parts.system}, {"role": "user", "content": parts.user}],
            tools=[REVIEW_TOOL],
            tool_choice=self._tool_choice(),
        )
        exchange = exchange_from(
            completion, role="feedback", node_id=request.node_id, started_at=started
        )
        calls = [call for call in completion.tool_calls if call.name == TOOL_NAME]
        if not calls:
            return None, exchange, NO_TOOL_CALL
        try:
            return parse_verdict(calls[0].arguments), exchange, None
        except ValueError as problem:
            return None, exchange, f"submit_review arguments unusable: {problem}"

    async def _ask_json(
        self, request: ReviewRequest, metric: float | None
    ) -> tuple[Verdict | None, Exchange, str | None]:
        parts = self._prompt(request, metric, json_mode=True)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": parts.system},
            {"role": "user", "content": parts.user},
        ]
        problem = ""
        for attempt in range(2):  # the answer, then one repair
            started = time.time()
            completion = await self._call(messages)
            exchange = exchange_from(
                completion, role="feedback", node_id=request.node_id, started_at=started
            )
            answer = self._answer(completion)
            try:
                return parse_verdict(answer), exchange, None
            except ValueError as error:
                problem = str(error)
            if attempt == 0:
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.text},
                    {"role": "user", "content": render_repair(problem)},
                ]
        return None, exchange, f"the reviewer's answer was unusable after a repair: {problem}"
