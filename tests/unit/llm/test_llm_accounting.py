"""Totals per role and per run, and the caps on tokens and money."""

from mlmaster.llm.accounting import Accountant, call_cost
from mlmaster.llm.requests import Exchange, Usage


def test_cost_is_per_million_tokens() -> None:
    assert call_cost(1_000_000, 500_000, 0.5, 2.0) == 1.5


def test_totals_per_role_and_run() -> None:
    accountant = Accountant()
    accountant.add("coder", Usage(input_tokens=100, output_tokens=50, cost=0.01), latency=2.0)
    accountant.add("coder", Usage(input_tokens=10, output_tokens=5, cost=0.001), attempts=3)
    accountant.add_exchange(
        Exchange(
            role="feedback",
            node_id="n1",
            api_style="replay",
            model=None,
            request={},
            response_text="{}",
            usage=Usage(input_tokens=7, output_tokens=3),
            latency=0.5,
        )
    )
    accountant.add_failure("feedback", attempts=2, latency=1.0)
    totals = accountant.totals()
    coder = totals.roles["coder"]
    assert (coder.calls, coder.attempts, coder.input_tokens, coder.output_tokens) == (2, 4, 110, 55)
    assert abs(coder.cost - 0.011) < 1e-12
    assert coder.latency == 2.0
    feedback = totals.roles["feedback"]
    assert (feedback.calls, feedback.failed_calls, feedback.tokens) == (1, 1, 10)
    assert feedback.latency == 1.5
    assert totals.tokens == 175
    assert totals.calls == 3


def test_exhausted_by_tokens() -> None:
    accountant = Accountant(max_tokens=100)
    accountant.add("coder", Usage(input_tokens=60, output_tokens=39))
    assert accountant.exhausted() is None
    accountant.add("coder", Usage(input_tokens=1, output_tokens=0))
    reason = accountant.exhausted()
    assert reason is not None and "token budget" in reason and "100" in reason


def test_exhausted_by_cost() -> None:
    accountant = Accountant(max_cost=0.05)
    accountant.add("feedback", Usage(cost=0.02))
    assert accountant.exhausted() is None
    accountant.add("coder", Usage(cost=0.04))
    reason = accountant.exhausted()
    assert reason is not None and "cost budget" in reason


def test_no_caps_never_exhausted() -> None:
    accountant = Accountant()
    accountant.add("coder", Usage(input_tokens=10**9, cost=10**6))
    assert accountant.exhausted() is None


def test_restore_carries_a_resumed_runs_spending_into_the_caps() -> None:
    accountant = Accountant(max_tokens=1000)
    accountant.restore(600, 300, 0.5)
    assert accountant.exhausted() is None
    accountant.add("coder", Usage(input_tokens=100))
    assert accountant.exhausted() is not None
    totals = accountant.totals()
    assert (totals.tokens, totals.cost, totals.calls) == (1000, 0.5, 1)


def test_totals_dump_includes_the_sums() -> None:
    accountant = Accountant()
    accountant.add("coder", Usage(input_tokens=3, output_tokens=2, cost=0.25))
    dumped = accountant.totals().model_dump(mode="json")
    assert dumped["tokens"] == 5 and dumped["cost"] == 0.25
    assert dumped["roles"]["coder"]["tokens"] == 5
