"""The LLM coder against the scripted server: API styles, reasoning styles, steerable prefill."""

from collections.abc import Callable

import pytest

from mlmaster.llm.client import Endpoint
from mlmaster.llm.coder import LLMCoder
from mlmaster.llm.requests import CodeRequest
from mlmaster.testing.scripted_server import Reply, ScriptedServer

EndpointFactory = Callable[..., Endpoint]
RequestFactory = Callable[..., CodeRequest]

SCRIPT = "import pandas as pd\nprint(pd.__version__)\n"
ANSWER = f"Start with a simple baseline.\n\n```python\n{SCRIPT}```\n"


async def test_chat_without_reasoning(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(text=ANSWER))
    answer = await LLMCoder(endpoint()).generate(code_request("draft", node_id="n7"))
    assert answer.code == SCRIPT
    assert answer.plan == "Start with a simple baseline."
    assert answer.reasoning is None
    assert answer.text == ANSWER
    messages = server.requests[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "PREVIEW-TEXT" in messages[1]["content"]
    assert "MEMORY-TEXT" in messages[1]["content"]
    exchange = answer.exchange
    assert exchange is not None
    assert (exchange.role, exchange.node_id, exchange.api_style) == ("coder", "n7", "chat")
    assert exchange.request["messages"] == messages
    assert exchange.response_text == ANSWER
    assert exchange.usage.output_tokens > 0


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_field(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory, field: str
) -> None:
    server.push(Reply(text=ANSWER, reasoning_content="Let me think.", reasoning_field=field))
    coder = LLMCoder(endpoint(reasoning_style="reasoning-field"))
    answer = await coder.generate(code_request())
    assert answer.reasoning == "Let me think."
    assert answer.code == SCRIPT
    assert answer.exchange is not None and answer.exchange.reasoning == "Let me think."


async def test_think_tags_in_chat_text(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(text=f"<think>\nA tree model fits.\n</think>\n{ANSWER}"))
    answer = await LLMCoder(endpoint(reasoning_style="think-tags")).generate(code_request())
    assert answer.reasoning == "A tree model fits."
    assert answer.plan == "Start with a simple baseline."
    assert answer.code == SCRIPT


@pytest.mark.parametrize("operator", ["draft", "improve", "debug"])
async def test_steerable_prefill_on_the_completions_api(
    server: ScriptedServer,
    endpoint: EndpointFactory,
    code_request: RequestFactory,
    operator: str,
) -> None:
    server.push(Reply(text=f"so a baseline first.\n</think>\n\n{ANSWER}"))
    coder = LLMCoder(
        endpoint(
            api_style="completions",
            reasoning_style="think-tags",
            steerable_prefill=True,
            model="deepseek-r1",
        )
    )
    request = code_request(operator)
    if operator != "draft":
        from mlmaster.llm.requests import ParentSolution

        request = request.model_copy(
            update={"parent": ParentSolution(node_id="p", plan="x", code="print('PARENT')\n")}
        )
    answer = await coder.generate(request)
    prompt = server.requests[0].body["prompt"]
    assert prompt.startswith("<｜begin▁of▁sentence｜>")
    head, think = prompt.rsplit("<｜Assistant｜><think>\n", 1)
    assert "PREVIEW-TEXT" in think and "MEMORY-TEXT" in think
    assert "PREVIEW-TEXT" not in head and "MEMORY-TEXT" not in head
    if operator != "draft":
        assert "print('PARENT')" in think
    assert answer.reasoning == "so a baseline first."
    assert answer.code == SCRIPT
    assert answer.plan == "Start with a simple baseline."


async def test_completions_without_prefill(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(text=ANSWER))
    coder = LLMCoder(endpoint(api_style="completions", prompt_template="chatml"))
    answer = await coder.generate(code_request())
    assert server.requests[0].body["prompt"].endswith("<|im_start|>assistant\n")
    assert answer.code == SCRIPT


async def test_a_reply_without_code_is_asked_again(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(text="I am sorry, I cannot write this script."), Reply(text=ANSWER))
    answer = await LLMCoder(endpoint()).generate(code_request())
    assert answer.code == SCRIPT
    assert len(server.requests) == 2


async def test_replies_without_code_give_no_code_in_the_end(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(*[Reply(text="I am sorry, I cannot write this script.")] * 2)
    answer = await LLMCoder(endpoint(), no_code_retries=1).generate(code_request())
    assert answer.code is None
    assert answer.plan == "I am sorry, I cannot write this script."
    assert len(server.requests) == 2


async def test_steering_over_chat_without_prefix_completion_runs_unsteered(
    server: ScriptedServer, endpoint: EndpointFactory, code_request: RequestFactory
) -> None:
    server.push(Reply(text="Plan.\n\n```python\nprint(1)\n```\n"))
    coder = LLMCoder(endpoint(steerable_prefill=True, api_style="chat"))
    answer = await coder.generate(code_request())
    assert answer.code is not None
    messages = server.requests[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "PREVIEW-TEXT" in messages[1]["content"]
