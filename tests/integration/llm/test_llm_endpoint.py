"""The endpoint through the real openai SDK: both API styles, parameters, faults, accounting."""

import asyncio
from collections.abc import Callable

import pytest

from mlmaster.llm.accounting import Accountant
from mlmaster.llm.client import Endpoint, LLMError
from mlmaster.settings.model import EndpointSettings
from mlmaster.testing.scripted_server import Reply, ScriptedServer

EndpointFactory = Callable[..., Endpoint]
HELLO = [{"role": "user", "content": "hello there"}]


class SleepLog:
    """Records the backoff waits the endpoint asks for (and waits not at all)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_chat_round_trip(server: ScriptedServer, endpoint: EndpointFactory) -> None:
    server.push(Reply(text="hi!", prompt_tokens=12, completion_tokens=3))
    completion = await endpoint(temperature=0.5, max_tokens=100).chat(HELLO)
    assert completion.text == "hi!"
    assert completion.api_style == "chat"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (12, 3)
    assert completion.attempts == 1
    body = server.requests[0].body
    assert server.requests[0].path == "/v1/chat/completions"
    assert body["messages"] == HELLO
    assert body["model"] == "test-model"
    assert body["temperature"] == 0.5
    assert body["max_tokens"] == 100
    assert server.requests[0].headers["authorization"] == "Bearer test-key"


async def test_completions_round_trip(server: ScriptedServer, endpoint: EndpointFactory) -> None:
    server.push(Reply(text=" world"))
    completion = await endpoint(api_style="completions").complete("hello")
    assert completion.text == " world"
    assert completion.api_style == "completions"
    assert server.requests[0].path == "/v1/completions"
    assert server.requests[0].body["prompt"] == "hello"


async def test_unset_temperature_is_not_sent_and_max_tokens_field_is_renamed(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(text="a"), Reply(text="b"))
    chat = endpoint(max_tokens=64, max_tokens_field="max_completion_tokens")
    await chat.chat(HELLO)
    body = server.requests[0].body
    assert "temperature" not in body
    assert body["max_completion_tokens"] == 64 and "max_tokens" not in body
    completions = endpoint(
        api_style="completions", max_tokens=64, max_tokens_field="max_completion_tokens"
    )
    await completions.complete("x")
    assert server.requests[1].body["max_completion_tokens"] == 64


async def test_429_honours_retry_after_and_shrinks_the_limiter(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(status=429, retry_after=0.25), Reply(text="ok"))
    ep = endpoint(concurrency=8)
    sleeps = SleepLog()
    ep._sleep = sleeps
    completion = await ep.chat(HELLO)
    assert completion.text == "ok"
    assert completion.attempts == 2
    assert sleeps.delays == [0.25]
    assert ep.limiter.limit == 4
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [
        Reply(status=500),
        Reply(status=503),
        Reply(malformed=True),
        Reply(delay=1.0),  # past the 0.3 s request timeout
    ],
    ids=["500", "503", "malformed-json", "timeout"],
)
async def test_retryable_faults_then_success(
    server: ScriptedServer, endpoint: EndpointFactory, fault: Reply
) -> None:
    server.push(fault, Reply(text="recovered"))
    # Only the slow-answer case needs a short timeout; a generous one elsewhere keeps a busy
    # machine from turning an ordinary answer into an extra, timed-out attempt.
    timeout = 0.3 if fault.delay else 10.0
    completion = await endpoint(request_timeout=timeout).chat(HELLO)
    assert completion.text == "recovered"
    assert completion.attempts == 2


async def test_retryable_faults_give_up_after_the_retries(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(*[Reply(status=500)] * 3)
    accountant = Accountant()
    with pytest.raises(LLMError) as caught:
        await endpoint(retries=2, accountant=accountant).chat(HELLO)
    error = caught.value
    assert error.retryable and error.attempts == 3 and error.status == 500
    assert "gave up after 3 attempts" in str(error) and "test-model" in str(error)
    assert len(server.requests) == 3
    assert accountant.totals().roles["coder"].failed_calls == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_4xx_fail_at_once_naming_endpoint_model_and_status(
    server: ScriptedServer, endpoint: EndpointFactory, status: int
) -> None:
    server.push(Reply(status=status, error_message="model not found"), Reply(text="never"))
    with pytest.raises(LLMError) as caught:
        await endpoint(role="feedback").chat(HELLO)
    message = str(caught.value)
    assert f"HTTP {status}" in message
    assert "llm.feedback" in message and server.base_url in message
    assert "'test-model'" in message and "model not found" in message
    assert caught.value.status == status and not caught.value.retryable
    assert len(server.requests) == 1


async def test_connection_refused_is_retried_then_reported() -> None:
    async with ScriptedServer() as gone:
        base_url = gone.base_url
    settings = EndpointSettings(
        provider="openai", base_url=base_url, model="m", retries=1, request_timeout=2.0
    )
    ep = Endpoint(settings, "coder", backoff_base=0.001)
    with pytest.raises(LLMError, match="connection failed") as caught:
        await ep.chat(HELLO)
    assert caught.value.attempts == 2


async def test_tokens_and_cost_are_accounted_per_role(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    accountant = Accountant(max_cost=0.01)
    server.push(
        Reply(text="a", prompt_tokens=1000, completion_tokens=200),
        Reply(text="b", prompt_tokens=3000, completion_tokens=800),
        Reply(text="c", prompt_tokens=50, completion_tokens=5),
    )
    prices = {"price_input": 1.0, "price_output": 4.0}
    coder = endpoint(accountant=accountant, **prices)
    feedback = endpoint(role="feedback", accountant=accountant, **prices)
    first = await coder.chat(HELLO)
    assert first.usage.cost == pytest.approx((1000 * 1.0 + 200 * 4.0) / 1e6)
    await coder.chat(HELLO)
    await feedback.chat(HELLO)
    totals = accountant.totals()
    assert totals.roles["coder"].input_tokens == 4000
    assert totals.roles["coder"].output_tokens == 1000
    assert totals.roles["coder"].calls == 2
    assert totals.roles["feedback"].tokens == 55
    assert totals.tokens == 5055
    assert totals.cost == pytest.approx((4050 * 1.0 + 1005 * 4.0) / 1e6)
    assert accountant.exhausted() is None
    server.push(Reply(text="d", prompt_tokens=10_000, completion_tokens=0))
    await coder.chat(HELLO)
    assert "cost budget" in (accountant.exhausted() or "")


async def test_missing_usage_is_estimated(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(text="x" * 400, omit_usage=True))
    completion = await endpoint().chat(HELLO)
    assert completion.usage.output_tokens == 100
    assert completion.usage.input_tokens > 0


async def test_no_key_and_no_base_url_is_a_clear_error() -> None:
    from mlmaster.errors import UserError

    with pytest.raises(UserError, match="MLMASTER_LLM__CODER__API_KEY"):
        Endpoint(EndpointSettings(provider="openai", model="m"), "coder")


async def test_concurrency_limit_holds_at_the_server(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.default = Reply(text="ok", delay=0.05)
    ep = endpoint(concurrency=2)
    await asyncio.gather(*(ep.chat(HELLO) for _ in range(6)))
    assert server.max_in_flight == 2
    assert len(server.requests) == 6


async def test_429_storm_shrinks_the_limit_to_one_then_it_grows_back(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(*[Reply(status=429, retry_after=0)] * 3, *[Reply(text="ok")] * 4)
    ep = endpoint(concurrency=8, retries=5)
    ep.limiter.grow_after = 2
    await ep.chat(HELLO)
    assert ep.limiter.limit == 1  # 8 -> 4 -> 2 -> 1
    await ep.chat(HELLO)
    assert ep.limiter.limit == 2  # grown by one after two successes in a row


def test_a_base_url_without_scheme_is_a_clear_error() -> None:
    from mlmaster.errors import UserError

    with pytest.raises(UserError, match="not an http"):
        Endpoint(EndpointSettings(provider="openai", base_url="localhost:8000/v1"), "feedback")


async def test_streamed_chat_is_put_back_together(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    text = "A plan that is long enough to arrive in several pieces.\n" * 3
    server.push(
        Reply(text=text, reasoning_content="thinking " * 10, prompt_tokens=9, completion_tokens=7)
    )
    accountant = Accountant()
    completion = await endpoint(stream=True, accountant=accountant).chat(HELLO)
    assert completion.text == text
    assert completion.reasoning_field == "thinking " * 10
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (9, 7)
    assert completion.finish_reason == "stop"
    assert server.requests[0].body["stream"] is True
    assert accountant.totals().tokens == 16


async def test_streamed_tool_call_and_completions(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    from mlmaster.testing.scripted_server import ToolCall

    arguments = '{"is_bug": false, "summary": "a summary long enough to be cut", "metric": 1}'
    server.push(Reply(text=None, tool_call=ToolCall(name="submit_review", arguments=arguments)))
    server.push(Reply(text="a completion in several streamed pieces, joined again"))
    chat = await endpoint(stream=True).chat(HELLO, tools=[{"type": "function", "function": {}}])
    assert [(c.name, c.arguments) for c in chat.tool_calls] == [("submit_review", arguments)]
    completion = await endpoint(stream=True, api_style="completions").complete("go")
    assert completion.text == "a completion in several streamed pieces, joined again"


async def test_a_stream_cut_halfway_is_retried(
    server: ScriptedServer, endpoint: EndpointFactory
) -> None:
    server.push(Reply(text="x" * 200, cut_stream=True), Reply(text="whole"))
    completion = await endpoint(stream=True).chat(HELLO)
    assert completion.text == "whole"
    assert completion.attempts == 2
