"""Rebuilding a run from its journal: the tree, the memory, the counters, the time spent.

Only ``node_committed`` events carry search state; a step that was in flight when the process
died left no event and is simply gone (its reservation died with the process). Time spent is
:func:`mlmaster.journal.time_spent`, the same figure the report shows.

A journal damaged by hand or by an older version's crash is read as far as it is sound: a
node whose parent is not in the journal cannot be placed, and is skipped with a warning naming
its line, like every line the journal reader skips.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlmaster.competition.layout import Competition
from mlmaster.errors import UserError
from mlmaster.journal import JournalContents, NodeCommitted, RunStarted, time_spent
from mlmaster.logs import get_logger
from mlmaster.memory import MemoryStore, insight_from_node
from mlmaster.search import ROOT_ID, SearchTree
from mlmaster.search.node import Node
from mlmaster.settings import Settings

log = get_logger(__name__)


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


def rebuild(journal: JournalContents, settings: Settings, competition: Competition) -> ResumePoint:
    """The run as its journal left it, ready to continue under ``settings``."""
    events = journal.events
    if not events or not isinstance(events[0], RunStarted):
        raise UserError("the journal does not start with run_started: not a run to resume")
    started = events[0]
    if started.competition != competition.spec.id:
        raise UserError(f"this run solved {started.competition!r}, not {competition.spec.id!r}")
    nodes = placeable_nodes([e for e in events if isinstance(e, NodeCommitted)])
    tree = SearchTree.from_nodes(
        settings.search,
        nodes,
        lower_is_better=competition.spec.lower_is_better,
        seed=settings.run.seed,
    )
    memory = MemoryStore(settings.memory)
    for node in nodes:
        memory.add(insight_from_node(node))
    return ResumePoint(
        tree=tree,
        memory=memory,
        elapsed=time_spent(events),
        steps=len(nodes),
        last_seq=journal.last_seq,
        tokens_in=sum(node.input_tokens for node in nodes),
        tokens_out=sum(node.output_tokens for node in nodes),
        cost=sum(node.cost for node in nodes),
    )


def placeable_nodes(commits: list[NodeCommitted]) -> list[Node]:
    """The committed nodes the tree can replay, in commit order; orphans skipped, named.

    A node is placeable when its parent is the root or a placeable node committed before it.
    (The reader has already dropped a node committed twice.)
    """
    placed: set[str] = {ROOT_ID}
    nodes: list[Node] = []
    for event in sorted(commits, key=lambda e: e.node.step):
        node = event.node
        if node.operator == "root":
            continue
        if node.parent_id not in placed:
            log.warning(
                "journal_line_skipped",
                problem=(
                    f"line {event.line}: node {node.id} names parent {node.parent_id!r}, which "
                    "no earlier line committed; skipped"
                ),
            )
            continue
        placed.add(node.id)
        nodes.append(node)
    return nodes
