"""Separating a model's reasoning from its answer.

Reasoning models show their thinking in one of three ways: inside ``<think>...</think>`` in the
text (DeepSeek-R1 on raw servers, Qwen3), in a separate ``reasoning_content`` / ``reasoning``
field (DeepSeek's API, vLLM's reasoning parser), or not at all; ``auto`` takes whichever
came. With steerable prefill the
prompt itself opened ``<think>``, so the answer text starts inside the reasoning.
"""

from __future__ import annotations

from typing import Literal

ReasoningStyle = Literal["think-tags", "reasoning-field", "auto", "none"]

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


def split_reasoning(
    text: str,
    style: ReasoningStyle,
    *,
    reasoning_field: str | None = None,
    prefilled: bool = False,
) -> tuple[str, str | None]:
    """``(answer, reasoning)`` of one completion.

    ``prefilled``: the prompt ended inside an open ``<think>`` block, so the text begins with
    reasoning even though it has no opening tag.
    """
    if style == "auto":
        # Whichever the server used: a separate field when it sent one, else tags in the text.
        style = "reasoning-field" if reasoning_field else "think-tags"
    if style == "reasoning-field":
        return text, (reasoning_field or None)
    if style == "none":
        return text, None
    return _split_think_tags(text, prefilled=prefilled)


def _split_think_tags(text: str, *, prefilled: bool) -> tuple[str, str | None]:
    opened = text.find(OPEN_TAG)
    closed = text.find(CLOSE_TAG)
    if prefilled and (opened < 0 or (0 <= closed < opened)):
        start = 0  # the reasoning began in the prompt
    elif opened >= 0:
        start = opened + len(OPEN_TAG)
    elif closed >= 0:
        start = 0  # a closing tag alone: the server swallowed the opening one
    else:
        return text, None
    end = text.find(CLOSE_TAG, start)
    if end < 0:
        # No closing tag: the model ran out of tokens or forgot it. The whole rest is reasoning,
        # and it is also the answer, so that a script written there can still be found.
        rest = text[start:]
        return rest, rest.strip() or None
    reasoning = text[start:end].strip()
    answer = text[:opened] if opened >= 0 and not prefilled else ""
    answer += text[end + len(CLOSE_TAG) :]
    return answer.strip(), reasoning or None
