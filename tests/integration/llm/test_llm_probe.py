"""The start-up probe against each provider mode of the scripted server, through the real
openai SDK over loopback HTTP: what passes, what is adapted, and each failure's one line."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from mlmaster.llm.probe import ProbeFailure, RoleReport, probe_role
from mlmaster.llm.requests import Role
from mlmaster.settings.model import EndpointSettings
from mlmaster.testing.providers import API_KEY, MODES, ProviderMode
from mlmaster.testing.scripted_server import ReceivedRequest, Reply, ScriptedServer, ToolCall


def answer_anything(received: ReceivedRequest) -> Reply:
    if received.body.get("tools"):
        verdict = {"is_bug": False, "summary": "fine", "metric": 0.5}
        return Reply(tool_call=ToolCall(name="submit_review", arguments=json.dumps(verdict)))
    return Reply(text="OK", reasoning_content="The user wants OK.")


def role_settings(server: ScriptedServer, preset: str, **fields: Any) -> EndpointSettings:
    mode = server.mode
    assert mode is not None and mode.models is not None
    values: dict[str, Any] = {
        "provider": "openai",
        "preset": preset,
        "base_url": server.base_url,
        "api_key": API_KEY,
        "model": mode.models[0],
        **fields,
    }
    return EndpointSettings.model_validate(values)


async def probe_in_mode(
    mode: ProviderMode, role: Role, **fields: Any
) -> tuple[RoleReport, EndpointSettings]:
    """Probe ``role`` on a server that behaves as ``mode``, with model "m" and ``fields`` set."""
    async with ScriptedServer(answer_anything, mode=mode) as server:
        settings = EndpointSettings.model_validate(
            {"provider": "openai", "base_url": server.base_url, "model": "m", **fields}
        )
        return await probe_role(settings, role)


@pytest.mark.parametrize("preset", sorted(MODES))
@pytest.mark.parametrize("role", ["coder", "feedback"])
async def test_each_preset_passes_against_its_provider_with_no_adaptation_needed(
    preset: str, role: Role
) -> None:
    async with ScriptedServer(answer_anything, mode=preset) as server:
        report, adapted = await probe_role(role_settings(server, preset), role)
    assert report.api_style == adapted.api_style
    assert not [note for note in report.adapted if "refused" in note]
    if role == "feedback" and adapted.api_style == "chat":
        assert report.tools == "yes"
    mode = MODES[preset]
    if mode.model_card_key is not None:
        assert adapted.context_length == mode.context_length


async def test_a_custom_endpoint_learns_what_a_reasoning_model_refuses() -> None:
    async with ScriptedServer(answer_anything, mode="openai-reasoning") as server:
        settings = role_settings(server, "custom", temperature=0.5, max_tokens=4000)
        report, adapted = await probe_role(settings, "coder")
        retried = server.requests[-1].body
    assert adapted.max_tokens_field == "max_completion_tokens"
    assert "temperature" in adapted.unsupported_params
    assert len(report.adapted) == 2
    assert "temperature" not in retried and "max_completion_tokens" in retried


async def test_hosted_deepseek_over_completions_is_moved_to_chat_and_steered_by_prefix() -> None:
    async with ScriptedServer(answer_anything, mode="deepseek") as server:
        settings = role_settings(
            server, "deepseek", api_style="completions", steerable_prefill=True
        )
        report, adapted = await probe_role(settings, "coder")
        prefixed = server.requests[-1].body["messages"][-1]
    assert adapted.api_style == "chat"
    assert report.steering == "prefix" and prefixed["prefix"] is True
    assert any("raw completions" in note for note in report.adapted)


async def test_refused_tools_mean_review_by_json() -> None:
    mode = ProviderMode(name="no-tools", tools="refused")
    report, adapted = await probe_in_mode(mode, "feedback")
    assert adapted.function_calling == "off" and report.tools == "no"


async def test_a_refused_forced_tool_choice_offers_the_tool_instead() -> None:
    mode = ProviderMode(name="thinking", tools="no-forced")
    report, adapted = await probe_in_mode(mode, "feedback")
    assert adapted.force_tool_choice is False and report.tools == "yes"


async def test_a_refused_prefix_means_unsteered_said_once() -> None:
    mode = ProviderMode(name="no-prefix", prefix=False)
    report, adapted = await probe_in_mode(
        mode, "coder", steerable_prefill=True, prefix_completion=True
    )
    assert adapted.prefix_completion is False and report.steering == "refused"


async def test_a_refused_stream_is_read_whole() -> None:
    mode = ProviderMode(name="no-stream", streaming=False)
    _, adapted = await probe_in_mode(mode, "coder", stream=True)
    assert adapted.stream is False


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"api_key": "sk-wrong"}, "MLMASTER_LLM__CODER__API_KEY"),
        ({"model": "gpt-5-typo"}, "MLMASTER_LLM__CODER__MODEL"),
        ({"base_url": "{root}/wrong/v1"}, "MLMASTER_LLM__CODER__BASE_URL"),
    ],
)
async def test_wrong_key_model_or_url_fail_in_one_line_naming_role_and_fix(
    change: dict[str, str], expected: str
) -> None:
    async with ScriptedServer(answer_anything, mode="openai") as server:
        root = server.base_url.removesuffix("/v1")
        fields = {key: value.format(root=root) for key, value in change.items()}
        with pytest.raises(ProbeFailure) as caught:
            await probe_role(role_settings(server, "openai", **fields), "coder")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("llm.coder") and expected in message


async def test_wrong_azure_deployment_names_the_model_setting() -> None:
    async with ScriptedServer(answer_anything, mode="azure") as server:
        with pytest.raises(ProbeFailure, match="deployment name"):
            await probe_role(role_settings(server, "azure", model="nope"), "feedback")


async def test_a_server_that_is_down_fails_the_check() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings = EndpointSettings.model_validate(
        {"provider": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "model": "m"}
    )
    with pytest.raises(ProbeFailure, match=r"llm\.feedback.*connection"):
        await probe_role(settings, "feedback")


async def test_a_self_hosted_preset_without_base_url_names_the_variable() -> None:
    settings = EndpointSettings.model_validate(
        {"provider": "openai", "preset": "vllm", "model": "m"}
    )
    with pytest.raises(Exception, match="MLMASTER_LLM__CODER__BASE_URL"):
        await probe_role(settings, "coder")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=403, error_message="not allowed to use this model"), "key's access"),
        (
            Reply(
                status=429,
                error_message="You exceeded your current quota",
                error_code="insufficient_quota",
            ),
            "no credit",
        ),
        (Reply(status=402, error_message="Insufficient Balance"), "no credit"),
        (Reply(status=503, error_message="overloaded"), "gave up after 2 attempts"),
    ],
)
async def test_permission_credit_and_a_dead_server_fail_the_check(
    reply: Reply, expected: str
) -> None:
    async with ScriptedServer(default=reply) as server:
        settings = EndpointSettings.model_validate(
            {"provider": "openai", "base_url": server.base_url, "model": "m", "retries": 3}
        )
        with pytest.raises(ProbeFailure) as caught:
            await probe_role(settings, "coder")
    assert expected in str(caught.value) and "\n" not in str(caught.value)
