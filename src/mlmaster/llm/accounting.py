"""Tokens, latency and money per call, per role and per run, and the budget caps on them.

Every endpoint reports each finished call here (offline and replayed exchanges too, through
:meth:`Accountant.add_exchange`). The orchestrator asks :meth:`Accountant.exhausted` before it
starts a step: once a cap is reached, no new step begins.
"""

from __future__ import annotations

from pydantic import BaseModel, computed_field

from mlmaster.llm.requests import Exchange, Role, Usage


def call_cost(
    input_tokens: int, output_tokens: int, price_input: float, price_output: float
) -> float:
    """USD for one call; prices are per million tokens."""
    return (input_tokens * price_input + output_tokens * price_output) / 1_000_000


RESUMED = "before_resume"  # the totals bucket of a resumed run's earlier spending


class RoleTotals(BaseModel):
    calls: int = 0
    failed_calls: int = 0
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency: float = 0.0  # seconds, summed over calls

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class RunTotals(BaseModel):
    roles: dict[str, RoleTotals] = {}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def input_tokens(self) -> int:
        return sum(role.input_tokens for role in self.roles.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def output_tokens(self) -> int:
        return sum(role.output_tokens for role in self.roles.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return sum(role.cost for role in self.roles.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def calls(self) -> int:
        return sum(role.calls for role in self.roles.values())


class Accountant:
    """Running totals of one run, with optional caps on tokens and money."""

    def __init__(self, *, max_tokens: int | None = None, max_cost: float | None = None) -> None:
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self._totals = RunTotals()

    def _role(self, role: Role) -> RoleTotals:
        return self._totals.roles.setdefault(role, RoleTotals())

    def add(self, role: Role, usage: Usage, *, latency: float = 0.0, attempts: int = 1) -> None:
        totals = self._role(role)
        totals.calls += 1
        totals.attempts += attempts
        totals.input_tokens += usage.input_tokens
        totals.output_tokens += usage.output_tokens
        totals.cost += usage.cost
        totals.latency += latency

    def add_failure(self, role: Role, *, attempts: int, latency: float) -> None:
        """A call that ended in an error: no tokens known, but its time and tries count."""
        totals = self._role(role)
        totals.failed_calls += 1
        totals.attempts += attempts
        totals.latency += latency

    def restore(self, input_tokens: int, output_tokens: int, cost: float) -> None:
        """Carry over what a resumed run had spent before (kept apart: its roles are unknown)."""
        earlier = self._totals.roles.setdefault(RESUMED, RoleTotals())
        earlier.input_tokens += input_tokens
        earlier.output_tokens += output_tokens
        earlier.cost += cost

    def add_exchange(self, exchange: Exchange) -> None:
        self.add(
            exchange.role, exchange.usage, latency=exchange.latency, attempts=exchange.attempts
        )

    def totals(self) -> RunTotals:
        return self._totals.model_copy(deep=True)

    def exhausted(self) -> str | None:
        """Why no new step may start (a cap is reached), or ``None`` while within budget."""
        if self.max_tokens is not None and self._totals.tokens >= self.max_tokens:
            return f"token budget reached: {self._totals.tokens} of {self.max_tokens} tokens used"
        if self.max_cost is not None and self._totals.cost >= self.max_cost:
            return f"cost budget reached: ${self._totals.cost:.4f} of ${self.max_cost:.4f} spent"
        return None
