"""Rebuilding a run from its journal: the tree, the memory, the counters, the time spent.

Only ``node_committed`` events carry search state; a step that was in flight when the process
died left no event and is simply gone (its reservation died with the process). Time spent is
the sum of each session's span, from its start event to its last event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlmaster.competition.layout import Competition
from mlmaster.errors import UserError
from mlmaster.memory import MemoryStore, insight_from_node
from mlmaster.search import SearchTree
from mlmaster.search.node import Node
from mlmaster.settings import Settings

SESSION_STARTS = ("run_started", "run_resumed")


@dataclass
class ResumePoint:
    tree: SearchTree
    memory: MemoryStore
    elapsed: float
    steps: int
    last_seq: int
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0


def rebuild(
    events: list[dict[str, Any]], settings: Settings, competition: Competition
) -> ResumePoint:
    if not events or events[0].get("type") != "run_started":
        raise UserError("the journal does not start with run_started: not a run to resume")
    started = events[0]
    if started.get("competition") != competition.spec.id:
        raise UserError(
            f"this run solved {started.get('competition')!r}, not {competition.spec.id!r}"
        )
    nodes = [Node.model_validate(e["node"]) for e in events if e["type"] == "node_committed"]
    tree = SearchTree.from_nodes(
        settings.search,
        nodes,
        lower_is_better=competition.spec.lower_is_better,
        seed=settings.run.seed,
    )
    memory = MemoryStore(settings.memory)
    for node in nodes:
        memory.add(insight_from_node(node))
    tokens = sum(node.tokens or 0 for node in nodes)
    cost = sum(node.cost or 0.0 for node in nodes)
    return ResumePoint(
        tree=tree,
        memory=memory,
        elapsed=_time_spent(events),
        steps=len(nodes),
        last_seq=max(int(e.get("seq", 0)) for e in events),
        tokens_in=tokens,
        cost=cost,
    )


def _time_spent(events: list[dict[str, Any]]) -> float:
    total, start, last = 0.0, None, None
    for event in events:
        if event["type"] in SESSION_STARTS:
            if start is not None and last is not None:
                total += last - start
            start = event["time"]
        last = event["time"]
    if start is not None and last is not None:
        total += last - start
    return total
