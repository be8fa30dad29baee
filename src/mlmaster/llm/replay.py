"""Record and replay: every exchange is kept with its node, and can be served back.

The orchestrator appends each :class:`Exchange` to ``<run>/nodes/<node-id>/exchanges.jsonl``
with :func:`record_exchange`. A replay coder or reviewer, given that run directory, answers each
request with the next recorded exchange of the same node and role, optionally after its recorded
latency (scaled): reproducible debugging at no cost, and a controlled LLM for the benchmark.
A request for a node the recording does not know gets the next unused exchange of its role in
recorded order, so a replay still runs when the new run names its nodes differently.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

import anyio

from mlmaster.errors import UserError
from mlmaster.journal import NodeDir, RunDir
from mlmaster.llm.coder import answer_from_text
from mlmaster.llm.extract import parse_metric_line
from mlmaster.llm.reasoning import CLOSE_TAG, OPEN_TAG, ReasoningStyle
from mlmaster.llm.requests import CodeAnswer, CodeRequest, Exchange, Review, ReviewRequest, Role
from mlmaster.llm.review import Verdict, decide, parse_verdict

EXCHANGES_FILE = NodeDir(Path()).exchanges.name


def record_exchange(node_dir: Path, exchange: Exchange) -> Path:
    """Append one exchange as a JSON line to the node folder's exchanges file."""
    return NodeDir(node_dir).append_exchange(exchange)


def load_exchanges(run_dir: Path) -> dict[str, list[Exchange]]:
    """Every recorded exchange of a run, per node id, in recorded order."""
    run = RunDir(Path(run_dir))
    if not run.nodes.is_dir():
        raise UserError(
            f"no recorded run at {run_dir}: expected {run.nodes}/<node-id>/{EXCHANGES_FILE}; "
            "set llm.<role>.replay_dir to a run directory"
        )
    found: dict[str, list[Exchange]] = {}
    for path in (node.exchanges for node in run.node_dirs() if node.exchanges.is_file()):
        exchanges = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                exchanges.append(Exchange.model_validate_json(line))
            except ValueError as error:
                raise UserError(
                    f"{path}, line {number}: not a recorded exchange ({error})"
                ) from error
        for exchange in exchanges:
            found.setdefault(exchange.node_id, []).append(exchange)
    return found


class ReplayBook:
    """The recorded exchanges of one run, handed out once each, per node and role."""

    def __init__(self, exchanges: dict[str, list[Exchange]]) -> None:
        self._by_node: dict[tuple[str, Role], deque[Exchange]] = defaultdict(deque)
        ordered = sorted(
            (exchange for node in exchanges.values() for exchange in node),
            key=lambda exchange: exchange.started_at,
        )
        self._by_role: dict[Role, list[Exchange]] = defaultdict(list)
        for exchange in ordered:
            self._by_node[(exchange.node_id, exchange.role)].append(exchange)
            self._by_role[exchange.role].append(exchange)
        self._used: set[int] = set()

    @classmethod
    def from_run(cls, run_dir: Path) -> ReplayBook:
        return cls(load_exchanges(run_dir))

    def take(self, node_id: str, role: Role) -> Exchange:
        queue = self._by_node.get((node_id, role))
        while queue:
            exchange = queue.popleft()
            if id(exchange) not in self._used:
                self._used.add(id(exchange))
                return exchange
        for exchange in self._by_role.get(role, []):
            if id(exchange) not in self._used:
                self._used.add(id(exchange))
                return exchange
        raise UserError(
            f"replay: the recording has no {role} exchange left for node {node_id}; "
            "the run asked for more calls than were recorded"
        )


class _Replayer:
    def __init__(self, book: ReplayBook, *, latency_scale: float = 0.0) -> None:
        self.book = book
        self.latency_scale = latency_scale

    async def _take(self, node_id: str, role: Role) -> Exchange:
        # Nobody counted a replayed call: the run records and counts it.
        exchange = self.book.take(node_id, role).model_copy(update={"accounted": False})
        if self.latency_scale > 0 and exchange.latency > 0:
            await anyio.sleep(exchange.latency * self.latency_scale)
        return exchange


class ReplayCoder(_Replayer):
    """Implements ``Coder.generate`` from a recording."""

    async def generate(self, request: CodeRequest) -> CodeAnswer:
        exchange = await self._take(request.node_id, "coder")
        prompt = exchange.request.get("prompt")
        # The recorded prompt tells how the answer must be read: a prompt that ended inside an
        # open <think> block means the answer starts inside the reasoning.
        prefilled = isinstance(prompt, str) and prompt.rfind(OPEN_TAG) > prompt.rfind(CLOSE_TAG)
        text = exchange.response_text
        style: ReasoningStyle = (
            "think-tags" if prefilled or CLOSE_TAG in text else "reasoning-field"
        )
        return answer_from_text(exchange, reasoning_style=style, prefilled=prefilled)


class ReplayReviewer(_Replayer):
    """Implements ``Reviewer.review`` from a recording."""

    async def review(self, request: ReviewRequest) -> Review:
        exchange = await self._take(request.node_id, "feedback")
        metric = request.metric_from_output
        if metric is None:
            metric = parse_metric_line(request.execution.stdout.text)
        verdict: Verdict | None = None
        error = None
        try:
            verdict = parse_verdict(exchange.response_text)
        except ValueError as problem:
            error = f"the recorded review is unusable: {problem}"
        if metric is None and verdict is not None:
            metric = verdict.metric
        buggy, reason = decide(request, metric, verdict)
        return Review(
            buggy=buggy,
            summary=verdict.summary if verdict is not None else (reason or ""),
            metric=None if buggy else metric,
            bug_reason=reason,
            error=error,
            exchange=exchange,
        )
