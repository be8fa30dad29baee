"""Provider modes of the scripted server: each preset's documented quirks, reproduced.

A :class:`ProviderMode` makes the scripted server answer as one provider does: which key and
models it accepts, the parameters it refuses, where reasoning comes back, whether it takes
tools (and a forced ``tool_choice``), raw completions, streaming, DeepSeek's ``prefix``
messages, Azure's deployment paths and ``api-key`` header, and its context length (answered
with a context-length 400 past it, and reported in its model card).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

API_KEY = "sk-scripted"


class ProviderMode(BaseModel):
    name: str = "custom"
    api_key: str | None = None  # None: any key (or none) is accepted
    models: list[str] | None = None  # None: any model name is accepted
    refused_params: dict[str, str] = {}  # body key -> the 400's message
    reasoning_field: Literal["reasoning_content", "reasoning"] | None = None
    tools: Literal["ok", "refused", "no-forced"] = "ok"
    completions: bool = True  # False: /completions answers 404
    streaming: bool = True  # False: a streamed request gets a 400
    prefix: bool = False  # chat continues a last assistant message marked prefix: true
    azure: bool = False  # /openai/deployments/<model>/..., api-version and api-key header
    context_length: int | None = None
    context_error: Literal["vllm", "sglang", "openai"] = "openai"
    model_card_key: str | None = None  # where /models reports the context length


_MAX_TOKENS_MESSAGE = (
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead."
)
_TEMPERATURE_MESSAGE = (
    "Unsupported value: 'temperature' does not support 0.5 with this model. "
    "Only the default (1) value is supported."
)

MODES: dict[str, ProviderMode] = {
    "openai": ProviderMode(name="openai", api_key=API_KEY, models=["gpt-4o"]),
    "openai-reasoning": ProviderMode(
        name="openai-reasoning",
        api_key=API_KEY,
        models=["o3-mini"],
        refused_params={"max_tokens": _MAX_TOKENS_MESSAGE, "temperature": _TEMPERATURE_MESSAGE},
        completions=False,
    ),
    "deepseek": ProviderMode(
        name="deepseek",
        api_key=API_KEY,
        models=["deepseek-reasoner", "deepseek-chat"],
        reasoning_field="reasoning_content",
        tools="no-forced",
        completions=False,  # the reasoner is not served over completions
        prefix=True,
        context_length=65536,
    ),
    "openrouter": ProviderMode(
        name="openrouter",
        api_key=API_KEY,
        models=["deepseek/deepseek-r1"],
        reasoning_field="reasoning",
        context_length=163840,
        model_card_key="context_length",
    ),
    "vllm": ProviderMode(
        name="vllm",
        models=["deepseek-ai/DeepSeek-R1"],
        context_length=32768,
        context_error="vllm",
        model_card_key="max_model_len",
        tools="refused",
    ),
    "sglang": ProviderMode(
        name="sglang",
        models=["deepseek-ai/DeepSeek-R1"],
        context_length=32768,
        context_error="sglang",
        tools="refused",
    ),
    "ollama": ProviderMode(name="ollama", models=["qwen3:8b"], reasoning_field="reasoning"),
    "azure": ProviderMode(name="azure", api_key=API_KEY, models=["my-gpt4o"], azure=True),
}


def context_message(mode: ProviderMode, requested: int) -> str:
    """The context-length 400's text, as each server family words it."""
    limit = mode.context_length
    if mode.context_error == "vllm":
        return (
            f"This model's maximum context length is {limit} tokens. However, you requested "
            f"{requested} tokens. Please reduce the length of the messages or completion."
        )
    if mode.context_error == "sglang":
        return (
            f"The input ({requested} tokens) is longer than the model's context length "
            f"({limit} tokens)."
        )
    return (
        f"This model's maximum context length is {limit} tokens. However, your messages "
        f"resulted in {requested} tokens. Please reduce the length of the messages."
    )
