"""Record and replay: a recorded run's exchanges served back, byte for byte."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlmaster.errors import UserError
from mlmaster.llm.accounting import Accountant
from mlmaster.llm.client import Endpoint
from mlmaster.llm.coder import LLMCoder
from mlmaster.llm.replay import (
    EXCHANGES_FILE,
    ReplayBook,
    ReplayCoder,
    ReplayReviewer,
    load_exchanges,
    record_exchange,
)
from mlmaster.llm.requests import CodeRequest, ReviewRequest
from mlmaster.llm.review import LLMReviewer
from mlmaster.testing.scripted_server import Reply, ScriptedServer

EndpointFactory = Callable[..., Endpoint]

SCRIPT = "print('VALIDATION_METRIC: 0.75')\n"


def think_answer(n: int) -> str:
    return f"idea {n}...</think>\nPlan {n}.\n```python\n# v{n}\n{SCRIPT}```\n"


async def test_replay_reproduces_recorded_exchanges_byte_for_byte(
    tmp_path: Path,
    server: ScriptedServer,
    endpoint: EndpointFactory,
    code_request: Callable[..., CodeRequest],
    review_request: Callable[..., ReviewRequest],
) -> None:
    run_dir = tmp_path / "run"
    coder = LLMCoder(
        endpoint(api_style="completions", reasoning_style="think-tags", steerable_prefill=True)
    )
    reviewer = LLMReviewer(endpoint("feedback", function_calling="off"))
    originals = []
    for node in ("a", "b"):
        for n in (1, 2):
            server.push(Reply(text=think_answer(n)))
            answer = await coder.generate(code_request(node_id=node))
            assert answer.exchange is not None
            record_exchange(run_dir / "nodes" / node, answer.exchange)
            originals.append(answer)
    server.push(Reply(text='{"is_bug": false, "summary": "Fine.", "metric": 0.75}'))
    review = await reviewer.review(review_request(node_id="a"))
    assert review.exchange is not None
    record_exchange(run_dir / "nodes" / "a", review.exchange)

    recorded_lines = (run_dir / "nodes" / "a" / EXCHANGES_FILE).read_text().splitlines()
    assert len(recorded_lines) == 3

    book = ReplayBook.from_run(run_dir)
    replay_coder = ReplayCoder(book)
    replay_reviewer = ReplayReviewer(book)
    requests_before = len(server.requests)
    # Nodes asked in another order than recorded: each node still gets its own, in order.
    for node, n in (("b", 1), ("a", 1), ("a", 2), ("b", 2)):
        original = originals[(0 if node == "a" else 2) + n - 1]
        replayed = await replay_coder.generate(code_request(node_id=node))
        assert replayed.exchange is not None and original.exchange is not None
        assert replayed.exchange.model_dump_json() == original.exchange.model_dump_json()
        assert replayed.text == original.text
        assert (replayed.plan, replayed.code, replayed.reasoning) == (
            original.plan,
            original.code,
            original.reasoning,
        )
        assert replayed.code is not None and f"# v{n}" in replayed.code
    replayed_review = await replay_reviewer.review(review_request(node_id="a"))
    assert replayed_review.exchange is not None
    assert replayed_review.exchange.model_dump_json() == recorded_lines[2]
    assert replayed_review.model_dump(exclude={"exchange"}) == review.model_dump(
        exclude={"exchange"}
    )
    assert len(server.requests) == requests_before  # no call reached the server


def make_exchange_file(run_dir: Path, node: str, texts: list[str]) -> None:
    from mlmaster.llm.requests import Exchange

    for text in texts:
        record_exchange(
            run_dir / "nodes" / node,
            Exchange(
                role="coder",
                node_id=node,
                api_style="chat",
                model="m",
                request={"messages": []},
                response_text=text,
                latency=0.2,
                started_at=time.time(),
            ),
        )


async def test_unknown_nodes_get_the_next_unused_exchange_then_a_clear_end(
    tmp_path: Path, code_request: Callable[..., CodeRequest]
) -> None:
    make_exchange_file(tmp_path, "x", ["first", "second"])
    coder = ReplayCoder(ReplayBook.from_run(tmp_path))
    assert (await coder.generate(code_request(node_id="x"))).text == "first"
    assert (await coder.generate(code_request(node_id="other"))).text == "second"
    with pytest.raises(UserError, match="no coder exchange left for node x"):
        await coder.generate(code_request(node_id="x"))


async def test_scaled_latency_is_waited(
    tmp_path: Path, code_request: Callable[..., CodeRequest]
) -> None:
    make_exchange_file(tmp_path, "x", ["slow"])
    coder = ReplayCoder(ReplayBook.from_run(tmp_path), latency_scale=0.5)
    started = time.monotonic()
    await coder.generate(code_request(node_id="x"))
    assert time.monotonic() - started >= 0.1  # waited 0.2 s * 0.5, not nothing


def test_missing_or_corrupt_recordings_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no recorded run"):
        load_exchanges(tmp_path)
    bad = tmp_path / "nodes" / "n1"
    bad.mkdir(parents=True)
    (bad / EXCHANGES_FILE).write_text("{not json\n")
    with pytest.raises(UserError, match="line 1: not a recorded exchange"):
        load_exchanges(tmp_path)


async def test_an_exchange_says_whether_its_endpoint_counted_it(
    tmp_path: Path,
    server: ScriptedServer,
    endpoint: EndpointFactory,
    code_request: Callable[..., CodeRequest],
) -> None:
    server.push(Reply(text=think_answer(1)), Reply(text=think_answer(2)))
    counted = await LLMCoder(endpoint(accountant=Accountant())).generate(code_request())
    uncounted = await LLMCoder(endpoint()).generate(code_request())
    assert counted.exchange is not None and counted.exchange.accounted
    assert uncounted.exchange is not None and not uncounted.exchange.accounted

    record_exchange(tmp_path / "nodes" / "n1", counted.exchange)
    replayed = await ReplayCoder(ReplayBook.from_run(tmp_path)).generate(code_request())
    # Nobody counted the replayed call: the run that records it counts it.
    assert replayed.exchange is not None and not replayed.exchange.accounted
