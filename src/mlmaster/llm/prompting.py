"""Rendering prompts from the templates in ``llm/prompts/``.

A code prompt has three parts: the system text (who the model is, per operator), the user text
(task, data, memory, parent, rules) and, with steerable reasoning, the opening of the model's
own ``<think>`` block (data preview, parent and memory, said in the first person, as ML-Master
does). With the completions API the parts are joined into one raw prompt in the model's chat
template; with the chat API they become messages.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

import jinja2
from pydantic import BaseModel

from mlmaster.competition.sample import describe_sample
from mlmaster.llm.environment_text import environment_lines
from mlmaster.llm.environment_text import parent_output as format_parent_output
from mlmaster.llm.reasoning import OPEN_TAG
from mlmaster.llm.requests import (
    METRIC_LINE_PREFIX,
    CodeRequest,
    ParentSolution,
    ReviewRequest,
)

PromptTemplate = Literal["auto", "deepseek", "chatml", "plain"]

PARENT_OUTPUT_CHARS = 5000  # the trimmed execution output shown of a parent
REVIEW_OUTPUT_CHARS = 8000


class PromptParts(BaseModel):
    system: str
    user: str
    think_prefix: str | None = None  # the start of the model's reasoning (steerable prefill)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mlmaster.llm", "prompts"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,  # plain text for a model, not HTML
    )


def render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context).strip() + "\n"


def humanize_seconds(seconds: float) -> str:
    """``3h 05m``, ``12m 30s``, ``45s``: whole units, as a person writes a duration."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _parent_runtime(parent: ParentSolution | None) -> str | None:
    if parent is None or parent.execution is None:
        return None
    execution = parent.execution
    text = humanize_seconds(execution.runtime)
    if execution.timed_out:
        return f"{text}, killed at the time limit"
    return text


def _code_context(
    request: CodeRequest,
    *,
    steer: bool,
    parent_output_chars: int = PARENT_OUTPUT_CHARS,
) -> dict[str, Any]:
    parent = request.parent
    parent_output = ""
    bug_reason = ""
    if parent is not None:
        if parent.execution is not None and parent_output_chars > 0:
            parent_output = format_parent_output(parent.execution, parent_output_chars)
        bug_reason = parent.bug_reason or parent.review_summary or ""
    return {
        "operator": request.operator,
        "description": request.description,
        "competition": request.competition,
        "data_preview": request.data_preview,
        "memory": request.memory.text,
        "parent": parent if request.operator != "draft" else None,
        "parent_output": parent_output,
        "bug_reason": bug_reason,
        "time_left": humanize_seconds(request.time_left),
        "run_limit": humanize_seconds(min(request.exec_timeout, request.time_left)),
        "parent_runtime": _parent_runtime(parent),
        "environment_lines": environment_lines(request.hardware, request.environment),
        "metric_prefix": METRIC_LINE_PREFIX,
        "sample_line": describe_sample(
            request.competition.sample_submission_file,
            request.competition.sample_submission_member,
        ),
        "steer": steer,
        "holdout": request.holdout,
    }


def render_code_prompt(
    request: CodeRequest,
    *,
    steer: bool = False,
    parent_output_chars: int = PARENT_OUTPUT_CHARS,
) -> PromptParts:
    """The prompt for a draft, improve or debug step.

    ``steer``: the data preview and the parent move from the user text into the reasoning
    prefix, where the model reads them as its own thoughts. ``parent_output_chars``: how much
    of the parent's output to show (less when the prompt must fit a small context).
    """
    context = _code_context(request, steer=steer, parent_output_chars=parent_output_chars)
    if steer:
        # Memory goes where the model reasons from it, not twice.
        user = render(f"{request.operator}.j2", **{**context, "memory": ""})
    else:
        user = render(f"{request.operator}.j2", **context)
    return PromptParts(
        system=render("system.j2", **context),
        user=user,
        think_prefix=render("think.j2", **context) if steer else None,
    )


def render_review_prompt(
    request: ReviewRequest,
    metric: float | None,
    *,
    json_mode: bool,
    output_chars: int = REVIEW_OUTPUT_CHARS,
    description_chars: int | None = None,
) -> PromptParts:
    """The review prompt; ``output_chars`` and ``description_chars`` shorten the two long
    parts when the prompt must fit a small context."""
    description = request.description
    if description_chars is not None and len(description) > description_chars:
        description = description[:description_chars] + "\n[... description shortened ...]"
    user = render(
        "review.j2",
        description=description,
        plan=request.plan,
        code=request.code,
        execution=request.execution,
        output=request.execution.output_tail(output_chars) if output_chars > 0 else "",
        metric=metric,
        metric_prefix=METRIC_LINE_PREFIX,
        submission_valid=request.submission_valid,
        submission_message=request.submission_message,
    )
    if json_mode:
        user = user.rstrip("\n") + "\n" + render("review_json.j2")
    system = "You are a Kaggle grandmaster reviewing the run of a solution script."
    return PromptParts(system=system, user=user)


def render_repair(error: str) -> str:
    return render("repair.j2", error=error)


# -- raw prompts for the completions API ------------------------------------------------------


def resolve_template(template: PromptTemplate, model: str | None) -> PromptTemplate:
    if template != "auto":
        return template
    name = (model or "").lower()
    if "deepseek" in name:
        return "deepseek"
    if "qwen" in name:
        return "chatml"
    return "plain"


def completion_prompt(parts: PromptParts, template: PromptTemplate, model: str | None) -> str:
    """One raw prompt in the model's chat template, ending where the assistant speaks.

    With a think prefix the prompt ends inside an open ``<think>`` block holding it, so the
    model continues that reasoning (steerable reasoning).
    """
    opening = f"{OPEN_TAG}\n{parts.think_prefix}" if parts.think_prefix is not None else ""
    kind = resolve_template(template, model)
    if kind == "deepseek":
        return (
            f"<｜begin▁of▁sentence｜>{parts.system}<｜User｜>{parts.user}<｜Assistant｜>{opening}"
        )
    if kind == "chatml":
        return (
            f"<|im_start|>system\n{parts.system}<|im_end|>\n"
            f"<|im_start|>user\n{parts.user}<|im_end|>\n"
            f"<|im_start|>assistant\n{opening}"
        )
    return f"{parts.system}\n\n{parts.user}\n\nAssistant:\n{opening}"
