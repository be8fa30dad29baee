"""The LLM reviewer: tool calls, JSON with one repair, and answers that cannot be used."""

import json
from collections.abc import Callable

import pytest

from mlmaster.execution.result import ScriptException
from mlmaster.llm.client import Endpoint, LLMError
from mlmaster.llm.requests import ReviewRequest
from mlmaster.llm.review import TOOL_NAME, LLMReviewer
from mlmaster.testing.scripted_server import Reply, ScriptedServer, ToolCall

EndpointFactory = Callable[..., Endpoint]
RequestFactory = Callable[..., ReviewRequest]


def tool_reply(
    is_bug: bool = False, summary: str = "AUC 0.75 on holdout.", metric: float | None = 0.99
) -> Reply:
    arguments = json.dumps({"is_bug": is_bug, "summary": summary, "metric": metric})
    return Reply(text=None, tool_call=ToolCall(name=TOOL_NAME, arguments=arguments))


def json_reply(is_bug: bool = False, summary: str = "Works.", metric: float | None = 0.5) -> Reply:
    verdict = json.dumps({"is_bug": is_bug, "summary": summary, "metric": metric})
    return Reply(text=f"Here is my review:\n```json\n{verdict}\n```")


async def test_function_calling_review(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(tool_reply())
    review = await LLMReviewer(endpoint("feedback", function_calling="on")).review(review_request())
    assert review.error is None
    assert not review.buggy
    assert review.summary == "AUC 0.75 on holdout."
    assert review.metric == 0.75  # the metric line wins over the model's reading
    body = server.requests[0].body
    assert body["tools"][0]["function"]["name"] == TOOL_NAME
    assert body["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    assert "lower_is_better" not in json.dumps(body["tools"])  # direction is never asked
    assert review.exchange is not None and json.loads(review.exchange.response_text)["metric"]


async def test_the_model_may_flag_a_silent_bug(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(tool_reply(is_bug=True, summary="The target leaks into the features."))
    review = await LLMReviewer(endpoint("feedback")).review(review_request())
    assert review.buggy
    assert review.bug_reason == "The target leaks into the features."
    assert review.metric is None


async def test_json_review_when_function_calling_is_off(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(json_reply(summary="Fine run."))
    review = await LLMReviewer(endpoint("feedback", function_calling="off")).review(
        review_request()
    )
    assert (review.buggy, review.summary, review.metric, review.error) == (
        False,
        "Fine run.",
        0.75,
        None,
    )
    body = server.requests[0].body
    assert "tools" not in body
    assert '"is_bug"' in body["messages"][-1]["content"]


async def test_auto_falls_back_to_json_when_tools_are_refused_and_remembers(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(
        Reply(status=400, error_message="tools are not supported"),
        json_reply(),
        json_reply(summary="Second."),
    )
    reviewer = LLMReviewer(endpoint("feedback", function_calling="auto"))
    first = await reviewer.review(review_request())
    second = await reviewer.review(review_request())
    assert first.error is None and second.summary == "Second."
    assert ["tools" in r.body for r in server.requests] == [True, False, False]


async def test_auto_falls_back_when_the_model_ignores_the_tool(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(Reply(text="It ran fine."), json_reply(summary="Via JSON."), json_reply())
    reviewer = LLMReviewer(endpoint("feedback"))
    review = await reviewer.review(review_request())
    assert review.summary == "Via JSON." and review.error is None
    await reviewer.review(review_request())
    assert ["tools" in r.body for r in server.requests] == [True, False, False]


@pytest.mark.parametrize(
    ("bad_answer", "named_in_repair"),
    [
        ('```json\n{"is_bug": false, "summary": \n```', "invalid JSON"),
        ('{"is_bug": "perhaps", "summary": 3}', "is_bug"),  # valid JSON, wrong schema
    ],
    ids=["malformed-json", "schema-violation"],
)
async def test_one_repair_of_a_bad_json_answer(
    server: ScriptedServer,
    endpoint: EndpointFactory,
    review_request: RequestFactory,
    bad_answer: str,
    named_in_repair: str,
) -> None:
    server.push(Reply(text=bad_answer), json_reply())
    review = await LLMReviewer(endpoint("feedback", function_calling="off")).review(
        review_request()
    )
    assert review.error is None and not review.buggy
    repair = server.requests[1].body["messages"]
    assert repair[-2]["role"] == "assistant"
    assert named_in_repair in repair[-1]["content"]


async def test_unusable_after_repair_never_crashes(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(Reply(text="no json here"), Reply(text="still none"))
    reviewer = LLMReviewer(endpoint("feedback", function_calling="off"))
    review = await reviewer.review(review_request())
    assert review.error is not None and "after a repair" in review.error
    assert not review.buggy and review.metric == 0.75  # decided from the facts
    server.push(Reply(text="no json"), Reply(text="none"))
    failed = await reviewer.review(review_request(exit_code=1, stdout="Traceback ...\n"))
    assert failed.buggy and failed.error is not None
    assert failed.bug_reason == "the script exited with code 1"


async def test_unreachable_reviewer_is_a_review_error(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(*[Reply(status=503, error_message="overloaded")] * 4)
    review = await LLMReviewer(endpoint("feedback", function_calling="on")).review(review_request())
    assert review.error is not None and "HTTP 503" in review.error
    assert not review.buggy and review.metric == 0.75


async def test_a_rejected_key_ends_the_review_instead_of_hiding(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(Reply(status=401, error_message="bad key"))
    with pytest.raises(LLMError) as caught:
        await LLMReviewer(endpoint("feedback", function_calling="on")).review(review_request())
    assert caught.value.fatal and "API_KEY" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"submission_valid": None}, "no ./submission/submission.csv"),
        ({"submission_valid": False, "submission_message": "wrong rows"}, "wrong rows"),
        ({"stdout": "done\n"}, "no validation metric"),
        ({"exit_code": None, "timed_out": True}, "time limit"),
        ({"exception": True}, "KeyError: 'city'"),
    ],
)
async def test_facts_make_a_run_buggy_whatever_the_model_says(
    server: ScriptedServer,
    endpoint: EndpointFactory,
    review_request: RequestFactory,
    changes: dict[str, object],
    reason: str,
) -> None:
    server.push(tool_reply(metric=None))
    request = review_request(
        **{k: v for k, v in changes.items() if k not in ("timed_out", "exception")}
    )
    if "timed_out" in changes:
        request.execution.timed_out = True
    if "exception" in changes:
        request.execution.exception = ScriptException(type="KeyError", message="'city'")
    review = await LLMReviewer(endpoint("feedback")).review(request)
    assert review.buggy
    assert reason in (review.bug_reason or "")
    assert review.metric is None


async def test_without_a_metric_line_the_models_reading_is_used(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(tool_reply(metric=0.61))
    review = await LLMReviewer(endpoint("feedback")).review(
        review_request(stdout="val auc = 0.61\n")
    )
    assert not review.buggy and review.metric == 0.61


async def test_review_over_the_completions_api_uses_json(
    server: ScriptedServer, endpoint: EndpointFactory, review_request: RequestFactory
) -> None:
    server.push(
        Reply(text='<think>looks ok</think>{"is_bug": false, "summary": "ok", "metric": 1}')
    )
    reviewer = LLMReviewer(
        endpoint("feedback", api_style="completions", reasoning_style="think-tags")
    )
    review = await reviewer.review(review_request())
    assert review.error is None and review.summary == "ok"
    assert server.requests[0].path == "/v1/completions"
