"""The run's memory: one short insight per finished node, and the context a new node gets.

What a prompt receives (``MemoryStore.context``), as ML-Master builds it, plus one addition:

* draft: the other drafts (so the new one is different);
* improve: the parent (design, code, result) and the parent's other children's attempts;
* debug: the buggy parent (code, error, analysis) and the failed fixes before it in the chain
  (so a fix is not repeated: the original showed only the parent);
* always: the run's best few working nodes from *other* branches, so what one worker learns
  reaches the others (the original's memory was strictly local to the tree position).

Entries come in a fixed order (parent, siblings by commit order, chain, best by score) and the
text is cut to ``context_chars``, so the same tree always gives the same context.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mlmaster.memory.insight import ContextEntry, EntryRole, Insight, MemoryContext
from mlmaster.search.node import Operator
from mlmaster.settings.model import MemorySettings

if TYPE_CHECKING:  # memory reads the tree; the search part never imports memory
    from mlmaster.search.node import Node
    from mlmaster.search.tree import SearchTree

DESIGN_CHARS = 400
MIN_PARTIAL_BLOCK = 200  # a block cut shorter than this says too little to keep
CHAIN_ENTRIES = 3  # earlier failed fixes shown for a debug


def _summarise(text: str, limit: int) -> str:
    """The first paragraph, whitespace collapsed, cut to ``limit`` characters."""
    first = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    flat = " ".join(first.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def insight_from_node(node: Node) -> Insight:
    """The short lesson of a finished node: its design, its result, what it suggests."""
    working = node.working
    if working:
        result = f"metric {node.metric:.6g}"
    else:
        cause = node.bug_reason
        if not cause and node.execution is not None and node.execution.exception_type:
            cause = f"{node.execution.exception_type}: {node.execution.exception_message or ''}"
        result = f"bug: {cause or 'the script did not produce a valid, scored submission'}"
    suggestion = node.review_summary or (
        "" if working else "a different approach may not run into the same bug"
    )
    return Insight(
        node_id=node.id,
        parent_id=None if node.parent_id in (None, "root") else node.parent_id,
        operator=node.operator if node.operator != "root" else "draft",
        design=_summarise(node.plan, DESIGN_CHARS) or "(no plan given)",
        result=result,
        suggestion=_summarise(suggestion, DESIGN_CHARS),
        metric=node.metric if working else None,
        buggy=not working,
        step=node.step,
    )


class MemoryStore:
    """Insights by node id. ``add`` is idempotent and synchronous (no await), so on one event
    loop concurrent workers' adds never interleave: none is lost and none is duplicated."""

    def __init__(self, settings: MemorySettings) -> None:
        self.settings = settings
        self._insights: dict[str, Insight] = {}

    def __len__(self) -> int:
        return len(self._insights)

    def add(self, insight: Insight) -> bool:
        """Keep the insight; True when its node was new. A repeat replaces the earlier one."""
        new = insight.node_id not in self._insights
        self._insights[insight.node_id] = insight
        return new

    def get(self, node_id: str) -> Insight | None:
        return self._insights.get(node_id)

    def insights(self) -> list[Insight]:
        return sorted(self._insights.values(), key=lambda i: (i.step, i.node_id))

    def to_dict(self) -> dict[str, Any]:
        return {"insights": [i.model_dump(mode="json") for i in self.insights()]}

    @classmethod
    def from_dict(cls, settings: MemorySettings, data: dict[str, Any]) -> MemoryStore:
        store = cls(settings)
        for raw in data.get("insights", []):
            store.add(Insight.model_validate(raw))
        return store

    # ------------------------------------------------------------------ context

    def context(self, tree: SearchTree, node_id: str, operator: Operator) -> MemoryContext:
        """What matters for expanding ``node_id`` with ``operator``, within the size budget."""
        node = tree.nodes[node_id]
        entries: list[ContextEntry] = []
        if operator == "draft":
            entries += self._children(tree, node)
        elif operator == "improve":
            entries.append(self._entry(node, "parent"))
            entries += self._children(tree, node)
        else:
            entries.append(self._entry(node, "error"))
            entries += self._debug_chain(tree, node)
        entries += self._best_elsewhere(tree, node, {e.insight.node_id for e in entries})
        return self._render(operator, entries)

    def _insight(self, node: Node) -> Insight:
        # a node committed a moment ago may not have its insight yet: derive it
        return self._insights.get(node.id) or insight_from_node(node)

    def _entry(self, node: Node, role: EntryRole) -> ContextEntry:
        return ContextEntry(role=role, insight=self._insight(node), code=node.code or None)

    def _children(self, tree: SearchTree, node: Node) -> list[ContextEntry]:
        children = sorted((tree.nodes[c] for c in node.children), key=lambda n: n.step)
        return [self._entry(c, "sibling") for c in children]

    def _debug_chain(self, tree: SearchTree, node: Node) -> list[ContextEntry]:
        """Earlier failed fixes of the same bug, nearest first."""
        found: list[ContextEntry] = []
        current = tree.nodes.get(node.parent_id) if node.parent_id else None
        while current is not None and current.needs_debug and len(found) < CHAIN_ENTRIES:
            found.append(self._entry(current, "ancestor"))
            current = tree.nodes.get(current.parent_id) if current.parent_id else None
        return found

    def _best_elsewhere(self, tree: SearchTree, node: Node, seen: set[str]) -> list[ContextEntry]:
        """The run's best working nodes outside this node's branch (its draft's subtree)."""
        limit = self.settings.best_insights
        branch = _branch_of(tree, node.id)
        found: list[ContextEntry] = []
        for candidate_id in tree.working_ids_best_first():  # lazy: stops at the limit
            if len(found) >= limit:
                break
            if candidate_id in seen:
                continue
            if branch is not None and _branch_of(tree, candidate_id) == branch:
                continue
            found.append(self._entry(tree.nodes[candidate_id], "best"))
        return found

    def _render(self, operator: Operator, entries: list[ContextEntry]) -> MemoryContext:
        budget = self.settings.context_chars
        kept: list[ContextEntry] = []
        blocks: list[str] = []
        used = 0
        for entry in entries:
            block = _render_entry(entry)
            cost = len(block) + (2 if blocks else 0)
            if used + cost > budget:
                room = budget - used - (2 if blocks else 0)
                if room >= MIN_PARTIAL_BLOCK:
                    blocks.append(block[: room - 1] + "…")
                    kept.append(entry)
                break
            blocks.append(block)
            kept.append(entry)
            used += cost
        return MemoryContext(operator=operator, entries=kept, text="\n\n".join(blocks))


LABELS = {
    "parent": "Parent solution",
    "error": "Buggy solution to fix",
    "sibling": "Earlier attempt from the same node",
    "ancestor": "Earlier failed fix in this debug chain",
    "best": "Best solution in another branch",
}


def _render_entry(entry: ContextEntry) -> str:
    insight = entry.insight
    lines = [
        f"## {LABELS[entry.role]} (node {insight.node_id}, {insight.operator})",
        f"Design: {insight.design}",
        f"Result: {insight.result}",
    ]
    if insight.suggestion:
        lines.append(f"Insight: {insight.suggestion}")
    return "\n".join(lines)


def _branch_of(tree: SearchTree, node_id: str) -> str | None:
    """The draft a node descends from (None for the root)."""
    top: str | None = None
    for node in tree.path_to_root(node_id):
        if node.operator == "draft":
            top = node.id
    return top
