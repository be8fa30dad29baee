"""Fitting a code prompt to the model's context length, cutting the least useful parts first.

The parts cut, in order: the memory of other branches, the data preview (first shortened,
then dropped), the parent's execution output (first shortened, then dropped). The task, the
parent's code and the rules always stay. Token counts are estimated (three characters a
token: on the safe side for code and English); the server's own error, when it comes, names
the real limit and the caller fits again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlmaster.llm.prompting import PARENT_OUTPUT_CHARS
from mlmaster.llm.requests import CodeRequest

CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class Cuts:
    """How much of each optional part a prompt keeps."""

    memory: bool = True
    preview_chars: int | None = None  # None: the whole preview
    parent_output_chars: int = PARENT_OUTPUT_CHARS


# Each rung keeps less than the one before.
LADDER: tuple[Cuts, ...] = (
    Cuts(),
    Cuts(memory=False),
    Cuts(memory=False, preview_chars=1500),
    Cuts(memory=False, preview_chars=0),
    Cuts(memory=False, preview_chars=0, parent_output_chars=1000),
    Cuts(memory=False, preview_chars=0, parent_output_chars=0),
)


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def apply_cuts(request: CodeRequest, cuts: Cuts) -> CodeRequest:
    """The request with the parts ``cuts`` leaves out removed (the parent output is cut
    when the prompt is rendered, from ``cuts.parent_output_chars``)."""
    changes: dict[str, object] = {}
    if not cuts.memory and request.memory.text:
        changes["memory"] = request.memory.model_copy(update={"text": ""})
    if cuts.preview_chars is not None and len(request.data_preview) > cuts.preview_chars:
        kept = request.data_preview[: cuts.preview_chars]
        changes["data_preview"] = kept + "\n[... data preview shortened ...]" if kept else ""
    return request.model_copy(update=changes) if changes else request


def prompt_budget(context_length: int | None, max_tokens: int | None) -> int | None:
    """Tokens a prompt may take: the context less the answer's room (a quarter when the
    answer's size is not set)."""
    if context_length is None:
        return None
    reserve = max_tokens if max_tokens is not None else context_length // 4
    return max(context_length // 8, context_length - reserve - 64)


def fit(render: Callable[[Cuts], str], budget: int | None, *, start: int = 0) -> tuple[int, str]:
    """The first rung from ``start`` whose rendered prompt fits ``budget`` tokens (the last
    rung when none does), and that prompt."""
    index = min(start, len(LADDER) - 1)
    text = render(LADDER[index])
    while budget is not None and estimate_tokens(text) > budget and index + 1 < len(LADDER):
        index += 1
        text = render(LADDER[index])
    return index, text
