"""What a report shows, read from a run directory: plain typed records, no HTML.

The loader (``load.py``) fills these from the journal and the node folders; the renderer
(``render.py``) only formats them. Keeping the two apart lets the facts be tested without HTML.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

# How a node is drawn. "unknown_validity": it ran and printed a metric, but no validator gave a
# verdict on its submission (the grader never answered), so it is neither valid nor buggy.
# "in_flight" and "abandoned" nodes have a folder but no committed event.
NodeStatus = Literal["valid", "buggy", "unknown_validity", "in_flight", "abandoned"]


class NodeView(BaseModel):
    id: str
    parent_id: str | None  # None: a child of the tree's root (a draft, or parent unknown)
    operator: str
    status: NodeStatus
    metric: float | None = None  # what the run ranked it by
    script_metric: float | None = None  # the score its script printed
    holdout_metric: float | None = None  # the harness's score on the holdout
    plan: str = ""
    code: str = ""
    output_tail: str = ""
    bug_reason: str | None = None
    review_summary: str | None = None
    exit_code: int | None = None
    exception: str | None = None  # "KeyError: 'x'", or "timed out"
    runtime: float | None = None
    worker_id: str | None = None
    tokens: int = 0
    cost: float = 0.0
    finished_at: float | None = None  # unix seconds: when the node was committed
    order: int = 0  # position in the journal, for stable drawing


class RoleUsage(BaseModel):
    role: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency: float = 0.0  # seconds, summed over calls

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class BestPoint(BaseModel):
    """The best metric so far, from the moment a node improved it."""

    seconds: float  # since the run started
    metric: float
    node_id: str


class RunReport(BaseModel):
    competition: str
    run_id: str
    status: str  # "ended: <reason>" or "unfinished (running, or stopped without a summary)"
    lower_is_better: bool | None  # None when no run_started event says
    started_at: float | None
    elapsed: float
    nodes: list[NodeView]
    best_id: str | None
    roles: list[RoleUsage]
    roles_source: str  # where the role totals came from, shown under the table
    best_over_time: list[BestPoint]
    # What the run worked with, as (label, text): the metric and its source, the scripts'
    # Python, hardware, network and disk (from run_started; empty for older journals).
    setup: list[tuple[str, str]] = []
    # Set when scripts ran unconfined: what they could reach, shown as a warning banner.
    unsandboxed: str | None = None

    @property
    def scored_both_ways(self) -> list[NodeView]:
        """Valid nodes with a holdout and a script score, best holdout first."""
        both = [
            n
            for n in self.nodes
            if n.status == "valid" and n.holdout_metric is not None and n.script_metric is not None
        ]
        return sorted(both, key=lambda n: n.holdout_metric or 0.0, reverse=not self.lower_is_better)

    @property
    def committed(self) -> list[NodeView]:
        return [n for n in self.nodes if n.status in ("valid", "buggy", "unknown_validity")]

    @property
    def best(self) -> NodeView | None:
        return next((n for n in self.nodes if n.id == self.best_id), None)

    def count(self, status: NodeStatus) -> int:
        return sum(1 for n in self.nodes if n.status == status)

    @property
    def tokens(self) -> int:
        if self.roles:
            return sum(r.tokens for r in self.roles)
        return sum(n.tokens for n in self.nodes)

    @property
    def cost(self) -> float:
        if self.roles:
            return sum(r.cost for r in self.roles)
        return sum(n.cost for n in self.nodes)
