"""Provider presets: the defaults one provider's endpoint needs, chosen by ``llm.<role>.preset``.

A preset fills in the role's settings that were not given explicitly (an explicit setting,
from a profile, the environment or a flag, always wins). Each entry follows the provider's
documented behaviour; ``custom`` sets nothing (every knob is the user's).

Adding a provider that speaks the OpenAI wire format is one entry here; one that needs its own
client is a transport (see :mod:`mlmaster.llm.transports`) plus an entry naming it.
"""

from __future__ import annotations

from typing import Any, Literal

PresetName = Literal[
    "custom",
    "openai",
    "openai-reasoning",
    "deepseek",
    "openrouter",
    "vllm",
    "sglang",
    "ollama",
    "azure",
]

# Sampling parameters OpenAI's reasoning models refuse with a 400.
_REASONING_REFUSED = ["temperature", "top_p", "presence_penalty", "frequency_penalty"]

PRESETS: dict[str, dict[str, Any]] = {
    "custom": {},
    "openai": {
        "base_url": "https://api.openai.com/v1",
        "api_style": "chat",
        "reasoning_style": "none",
        # max_tokens is deprecated on OpenAI's chat API in favour of max_completion_tokens.
        "max_tokens_field": "max_completion_tokens",
        "function_calling": "on",
    },
    "openai-reasoning": {
        "base_url": "https://api.openai.com/v1",
        "api_style": "chat",
        # o-series and gpt-5 reasoning stays hidden: no reasoning text comes back.
        "reasoning_style": "none",
        "max_tokens_field": "max_completion_tokens",
        "unsupported_params": _REASONING_REFUSED,
        "function_calling": "on",
        "request_timeout": 1800.0,
    },
    "deepseek": {
        # The beta root serves the ordinary API too, and chat prefix completion on top.
        "base_url": "https://api.deepseek.com/beta",
        "api_style": "chat",
        "reasoning_style": "reasoning-field",  # reasoning_content beside content
        "max_tokens_field": "max_tokens",
        "prefix_completion": True,
        # Thinking mode refuses a forced tool_choice: offer the tool, let the model choose.
        "force_tool_choice": False,
        "function_calling": "auto",
        "request_timeout": 1800.0,
    },
    "openrouter": {
        "base_url": "https://openrouter.ai/api/v1",
        "api_style": "chat",
        "reasoning_style": "reasoning-field",  # the "reasoning" field of each message
        "max_tokens_field": "max_tokens",
        "function_calling": "auto",
    },
    "vllm": {
        # Self-hosted R1-style models: raw completions in the model's chat template, so the
        # prompt can end inside the model's own <think> block (steerable reasoning).
        "api_style": "completions",
        "reasoning_style": "think-tags",
        "prompt_template": "auto",
        "max_tokens_field": "max_tokens",
        "function_calling": "off",  # no tools on completions: review by validated JSON
        "stream": True,
        "request_timeout": 3600.0,
    },
    "sglang": {
        "api_style": "completions",
        "reasoning_style": "think-tags",
        "prompt_template": "auto",
        "max_tokens_field": "max_tokens",
        "function_calling": "off",
        "stream": True,
        "request_timeout": 3600.0,
    },
    "ollama": {
        "base_url": "http://localhost:11434/v1",
        "api_style": "chat",
        "reasoning_style": "auto",
        "max_tokens_field": "max_tokens",
        "function_calling": "auto",
        # Ollama cuts prompts past its context silently; its default is 4096 tokens on a
        # machine with under 24 GiB of VRAM. Raise both it (OLLAMA_CONTEXT_LENGTH) and this.
        "context_length": 4096,
    },
    "azure": {
        "transport": "azure",
        "api_version": "2024-10-21",
        "api_style": "chat",
        "reasoning_style": "none",
        "max_tokens_field": "max_tokens",
        "function_calling": "on",
    },
}

# Presets whose server is the user's own: no default URL can be right.
NEEDS_BASE_URL = frozenset({"vllm", "sglang", "azure"})


def preset_defaults(name: str) -> dict[str, Any]:
    """A copy of the preset's defaults (unknown names are left to the settings' validation)."""
    return {
        key: list(value) if isinstance(value, list) else value
        for key, value in PRESETS.get(name, {}).items()
    }
