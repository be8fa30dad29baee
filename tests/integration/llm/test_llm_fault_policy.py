"""The fault policy through the real openai SDK over loopback HTTP: what costs a step, what
costs a retry, what ends a run; the wall-clock cap; steering over chat; Azure; pass-through."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from mlmaster.llm.client import Endpoint, LLMError
from mlmaster.llm.coder import LLMCoder
from mlmaster.llm.fitting import estimate_tokens, prompt_budget
from mlmaster.llm.requests import CodeRequest
from mlmaster.llm.review import LLMReviewer
from mlmaster.settings.model import EndpointSettings
from mlmaster.testing.providers import API_KEY
from mlmaster.testing.scripted_server import Reply, ScriptedServer

EndpointFactory = Callable[..., Endpoint]
RequestFactory = Callable[..., CodeRequest]
CODE = "Plan: print.\n\n```python\nprint('VALIDATION_METRIC: 0.5')\n```\n"
HELLO = [{"role": "user", "content": "hello"}]


def context_error(limit: int = 600) -> Reply:
    return Reply(
        status=400,
        error_code="context_length_exceeded",
        error_message=f"This model's maximum context length is {limit} tokens. However, you "
        f"requested {limit * 3} tokens. Please reduce the length of the messages.",
    )


async def test_a_stream_that_never_ends_is_cut_at_request_timeout(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(text="thinking " * 5, endless_stream=True, stream_delay=0.05))
    began = time.monotonic()
    with pytest.raises(LLMError, match="no full answer within 1s") as caught:
        await endpoint(stream=True, request_timeout=1.0, retries=0).chat(HELLO)
    # Chunks kept coming all along: only a cap on the whole call stops it.
    assert time.monotonic() - began < 30
    assert caught.value.retryable and not caught.value.fatal


async def test_a_slow_answer_within_the_cap_is_kept(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(text="a slow but complete answer", stream_delay=0.02))
    completion = await endpoint(stream=True, request_timeout=30.0).chat(HELLO)
    assert completion.text == "a slow but complete answer"


async def test_a_content_filter_400_fails_only_the_step_with_its_reason(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(
        Reply(
            status=400,
            error_code="content_filter",
            error_message="The response was filtered due to the prompt triggering the "
            "content management policy",
        )
    )
    answer = await LLMCoder(endpoint()).generate(code_request())
    assert answer.code is None
    assert answer.refused is not None and "filtered" in answer.refused
    assert len(server.requests) == 1  # not retried: the same prompt would be refused again


async def test_a_context_length_400_shrinks_the_prompt_and_retries_once(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(context_error(), Reply(text=CODE))
    coder = LLMCoder(endpoint())
    answer = await coder.generate(code_request())
    assert answer.code is not None
    first, second = (str(r.body["messages"]) for r in server.requests)
    assert "MEMORY-TEXT" in first and "PREVIEW-TEXT" in first
    assert "MEMORY-TEXT" not in second and "PREVIEW-TEXT" not in second
    assert len(second) < len(first)
    assert coder.context_length == 600  # learned from the error, for the next prompts


async def test_a_context_length_400_twice_fails_the_step(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(context_error(), context_error())
    answer = await LLMCoder(endpoint()).generate(code_request())
    assert answer.code is None and answer.refused is not None
    assert "maximum context length" in answer.refused
    assert len(server.requests) == 2


async def test_prompts_are_fitted_to_a_known_context_length(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    request = code_request()
    request = request.model_copy(
        update={"memory": request.memory.model_copy(update={"text": "MEMORY-TEXT " * 2000})}
    )
    server.push(Reply(text=CODE))
    await LLMCoder(endpoint(context_length=8000, max_tokens=1000)).generate(request)
    sent = str(server.requests[0].body["messages"])
    assert "MEMORY-TEXT" not in sent and "PREVIEW-TEXT" in sent


async def test_a_500_storm_costs_retries_then_the_step_not_the_run(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(*[Reply(status=500)] * 4)
    with pytest.raises(LLMError) as caught:
        await LLMCoder(endpoint(retries=3)).generate(code_request())
    assert caught.value.retryable and not caught.value.fatal


async def test_a_401_is_fatal_and_names_the_key_variable(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(status=401, error_message="Incorrect API key provided"))
    with pytest.raises(LLMError) as caught:
        await LLMCoder(endpoint()).generate(code_request())
    assert caught.value.fatal and "MLMASTER_LLM__CODER__API_KEY" in str(caught.value)
    assert len(server.requests) == 1


async def test_steering_over_chat_prefix_completion(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(text="so a ridge model will do.\n</think>\n" + CODE))
    coder = LLMCoder(endpoint(steerable_prefill=True, prefix_completion=True))
    answer = await coder.generate(code_request())
    last = server.requests[0].body["messages"][-1]
    assert last["role"] == "assistant" and last["prefix"] is True
    assert last["content"].startswith("<think>") and "PREVIEW-TEXT" in last["content"]
    assert answer.code is not None and "ridge model" in (answer.reasoning or "")


async def test_a_refused_prefix_runs_unsteered_from_then_on(
    endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    async with ScriptedServer(default=Reply(text=CODE), mode="openai") as server:
        settings = EndpointSettings.model_validate(
            {
                "provider": "openai",
                "base_url": server.base_url,
                "api_key": API_KEY,
                "model": "gpt-4o",
                "steerable_prefill": True,
                "prefix_completion": True,
            }
        )
        coder = LLMCoder(Endpoint(settings, "coder"))
        first = await coder.generate(code_request())
        second = await coder.generate(code_request())
        await coder.endpoint.close()
        roles = [[m["role"] for m in r.body["messages"]] for r in server.requests]
    assert first.code is not None and second.code is not None
    assert roles == [["system", "user", "assistant"], ["system", "user"], ["system", "user"]]
    assert "PREVIEW-TEXT" in str(server.requests[1].body["messages"])


async def test_azure_deployment_path_version_and_key_header() -> None:
    async with ScriptedServer(default=Reply(text="hi"), mode="azure") as server:
        settings = EndpointSettings.model_validate(
            {
                "provider": "openai",
                "preset": "azure",
                "base_url": server.base_url,
                "api_key": API_KEY,
                "model": "my-gpt4o",
            }
        )
        endpoint = Endpoint(settings, "feedback")
        completion = await endpoint.chat(HELLO)
        await endpoint.close()
        received = server.requests[0]
    assert completion.text == "hi"
    assert received.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert received.headers["api-key"] == API_KEY


async def test_extra_body_headers_and_query_pass_through(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(text="ok"))
    await endpoint(
        extra_body={"reasoning": {"effort": "high"}, "chat_template_kwargs": {"thinking": True}},
        extra_headers={"X-Title": "mlmaster"},
        extra_query={"route": "fallback"},
        temperature=0.7,
        unsupported_params=["temperature"],
    ).chat(HELLO)
    received = server.requests[0]
    assert received.body["reasoning"] == {"effort": "high"}
    assert received.body["chat_template_kwargs"] == {"thinking": True}
    assert received.headers["x-title"] == "mlmaster"
    assert received.query["route"] == "fallback"
    assert "temperature" not in received.body


async def test_review_prompts_are_fitted_to_a_known_context_length(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: Callable[..., Any]
) -> None:
    long_output = "epoch line\n" * 3000 + "VALIDATION_METRIC: 0.75\n"
    server.push(Reply(text='{"is_bug": false, "summary": "ok", "metric": 0.75}'))
    reviewer = LLMReviewer(endpoint("feedback", function_calling="off", context_length=4096))
    review = await reviewer.review(review_request(stdout=long_output))
    sent = "".join(m["content"] for m in server.requests[0].body["messages"])
    assert review.metric == 0.75
    assert estimate_tokens(sent) <= (prompt_budget(4096, None) or 0)
    assert "VALIDATION_METRIC: 0.75" in sent  # the tail of the output is what is kept
    assert sent.count("epoch line") < 8000 // len("epoch line\n")
