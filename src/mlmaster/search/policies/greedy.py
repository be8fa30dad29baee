"""AIDE's greedy rule: drafts first; then debug a random buggy leaf with probability
``greedy_debug_prob``, else improve the best working node that has a free slot.

Its two indexes are its own, updated per commit in O(log n): the working nodes that may still
get children, by score, and the buggy leaves that may still be debugged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlmaster.search.policies.base import PolicyBase
from mlmaster.search.reward import MetricRanking

if TYPE_CHECKING:
    from mlmaster.search.node import Node
    from mlmaster.search.tree import Expansion, SearchTree


class GreedyPolicy(PolicyBase):
    def __init__(self) -> None:
        self.improvable: MetricRanking | None = None  # made at the first commit (direction)
        self.debuggable = IndexedSet()

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        if tree.free(tree.root_id) > 0:
            return tree.root_id
        debug_first = tree.rng.random() < tree.settings.greedy_debug_prob
        options = (
            (self._buggy_leaf, self._best_working)
            if debug_first
            else (self._best_working, self._buggy_leaf)
        )
        for option in options:
            found = option(tree)
            if found is not None:
                return found
        return None

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None:
        if self.improvable is None:
            self.improvable = MetricRanking(tree.lower_is_better)
        parent = tree.nodes[expansion.parent_id]
        self.debuggable.discard(parent.id)
        if node.needs_debug and not node.terminal:
            self.debuggable.add(node.id)
        if parent.id in self.improvable and len(parent.children) >= tree.capacity(parent):
            self.improvable.remove(parent.id)
        if node.working and tree.capacity(node) > 0:
            assert node.metric is not None
            self.improvable.add(node.metric, node.id)

    def improvable_best_first(self) -> list[str]:
        """Working nodes not full yet, best first (some may be briefly full of reservations)."""
        return [] if self.improvable is None else list(self.improvable.best_first())

    def _buggy_leaf(self, tree: SearchTree) -> str | None:
        leaves = self.debuggable
        # a few random draws find a free leaf unless most are reserved; then scan the rest
        for _ in range(min(len(leaves), 8)):
            pick = leaves[tree.rng.randrange(len(leaves))]
            if tree.free(pick) > 0:
                return pick
        free = [leaf for leaf in leaves if tree.free(leaf) > 0]
        return tree.rng.choice(free) if free else None

    def _best_working(self, tree: SearchTree) -> str | None:
        if self.improvable is None:
            return None
        for node_id in self.improvable.best_first():
            if tree.free(node_id) > 0:
                return node_id
        return None


class IndexedSet:
    """Insertion-ordered ids with O(1) add, discard (swap with the last) and indexing, so a
    policy can draw a random member without building a list."""

    def __init__(self) -> None:
        self._items: list[str] = []
        self._position: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __getitem__(self, index: int) -> str:
        return self._items[index]

    def add(self, item: str) -> None:
        if item not in self._position:
            self._position[item] = len(self._items)
            self._items.append(item)

    def discard(self, item: str) -> None:
        at = self._position.pop(item, None)
        if at is None:
            return
        last = self._items.pop()
        if at < len(self._items):
            self._items[at] = last
            self._position[last] = at
