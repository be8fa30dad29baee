"""Presets fill in a role's settings; explicit settings from any source win."""

import pytest

from mlmaster.llm.presets import PRESETS
from mlmaster.settings import load_settings
from mlmaster.settings.model import EndpointSettings


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid_settings(name: str) -> None:
    settings = EndpointSettings.model_validate({"preset": name})
    for key, value in PRESETS[name].items():
        assert getattr(settings, key) == value


def test_explicit_settings_win_over_the_preset() -> None:
    settings = load_settings(
        None,
        environ={
            "MLMASTER_LLM__CODER__PRESET": "deepseek",
            "MLMASTER_LLM__CODER__BASE_URL": "https://proxy.example/v1",
            "MLMASTER_LLM__CODER__EXTRA_BODY": '{"thinking": {"type": "enabled"}}',
        },
    )
    coder = settings.llm.coder
    assert coder.base_url == "https://proxy.example/v1"  # the environment's
    assert coder.reasoning_style == "reasoning-field"  # the preset's
    assert coder.extra_body == {"thinking": {"type": "enabled"}}


def test_an_unknown_transport_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: openai, azure"):
        EndpointSettings.model_validate({"transport": "grpc"})


def test_the_mlebench_profile_needs_a_self_hosted_url() -> None:
    settings = load_settings("mlebench", environ={})
    assert settings.llm.coder.preset == "vllm" and settings.llm.coder.base_url is None
    assert settings.llm.coder.api_style == "completions" and settings.llm.coder.stream


def test_the_mlebench_api_profile_is_a_hosted_reasoning_model_over_chat() -> None:
    settings = load_settings("mlebench-api", environ={})
    assert settings.llm.coder.api_style == "chat"
    assert settings.llm.coder.base_url is not None
