"""One node of the search tree: a solution script, what running it showed, and its search stats.

Nodes are attached to the tree only when their step commits, so every node in the tree is
``done`` except the virtual root; a step still in flight lives as an ``Expansion`` (see
``tree.py``) and is what ``pending``/``running`` describe in counts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, computed_field

from mlmaster.execution.result import ExecutionResult

NodeStatus = Literal["pending", "running", "done"]
# what a step does to its parent: write a first solution, improve a working one, fix a buggy one
Operator = Literal["draft", "improve", "debug"]
NodeOperator = Literal["root", "draft", "improve", "debug"]

__all__ = [
    "ExecutionSummary",
    "Node",
    "NodeOperator",
    "NodeStatus",
    "Operator",
    "Outcome",
    "Solution",
]

OUTPUT_TAIL_CHARS = 2000


class ExecutionSummary(BaseModel):
    """What the tree keeps of one script run: enough for memory and reports, never whole logs."""

    exit_code: int | None = None
    timed_out: bool = False
    runtime: float = 0.0
    output_tail: str = ""
    exception_type: str | None = None
    exception_message: str | None = None

    @classmethod
    def from_result(
        cls, result: ExecutionResult, tail_chars: int = OUTPUT_TAIL_CHARS
    ) -> ExecutionSummary:
        exception = result.exception
        return cls(
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            runtime=result.runtime,
            output_tail=result.output_tail(tail_chars),
            exception_type=exception.type if exception else None,
            exception_message=exception.message if exception else None,
        )


class Solution(BaseModel):
    """A script and what became of it: the facts every view of a node shares (the tree's
    ``Node``, a step's ``Outcome``, the parent a prompt shows), each written once here."""

    plan: str = ""
    code: str = ""
    metric: float | None = None  # what the tree ranks: the holdout's or the script's score
    script_metric: float | None = None  # the score the script printed itself
    holdout_metric: float | None = None  # the harness's score on its holdout, when one exists
    valid_submission: bool = False
    buggy: bool = False
    bug_reason: str | None = None
    review_summary: str | None = None


class Outcome(Solution):
    """Everything a finished step tells the tree; ``SearchTree.commit`` turns it into a node."""

    execution: ExecutionSummary | None = None
    input_tokens: int = 0  # the step's LLM calls, counted apart (prices differ)
    output_tokens: int = 0
    cost: float = 0.0
    worker_id: str | None = None


class Node(Outcome):
    """A committed step: its outcome, its place in the tree, and the chain rules' state."""

    id: str
    parent_id: str | None = None
    children: list[str] = Field(default_factory=list)
    operator: NodeOperator
    status: NodeStatus = "done"
    step: int = 0  # commit order (root: 0); the tree replays commits in this order on rebuild

    # search state, recomputed by replay when the tree is rebuilt
    reward: float = 0.0  # this node's own reward, fixed at its commit
    depth: int = 0
    debug_depth: int = 0  # consecutive debug steps ending here (0 unless its parent needs debug)
    stagnation: int = 0  # improves in a row along this chain that did not beat its local best
    local_best: float | None = None  # best metric of this improvement chain so far
    terminal: bool = False
    terminal_reason: str | None = None

    created_at: float = 0.0
    finished_at: float = 0.0
    # Journals written before the split kept one sum, ``tokens``: it is read as input tokens.
    input_tokens: int = Field(default=0, validation_alias=AliasChoices("input_tokens", "tokens"))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def working(self) -> bool:
        """Ran, printed a metric and wrote a valid submission: worth improving."""
        return not self.buggy and self.metric is not None and self.valid_submission

    @property
    def needs_debug(self) -> bool:
        """Buggy, silent about its metric, or its submission failed validation."""
        return self.operator != "root" and not self.working
