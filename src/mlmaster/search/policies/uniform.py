"""The ``random`` policy: uniform over all free child slots in the tree (a baseline).

Every free slot is one entry in a flat list (a node with three free slots appears three times),
kept through the hooks with O(1) swap-removals, so a choice is one draw whatever the tree's
size or depth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlmaster.search.policies.base import PolicyBase

if TYPE_CHECKING:
    from mlmaster.search.node import Node
    from mlmaster.search.tree import Expansion, SearchTree


class RandomPolicy(PolicyBase):
    def __init__(self) -> None:
        self.slots: list[str] = []  # one node id per free child slot
        self._where: dict[str, set[int]] = {}  # node id -> its positions in ``slots``

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        if not self.slots:
            return None
        return self.slots[tree.rng.randrange(len(self.slots))]

    def on_reserve(self, tree: SearchTree, expansion: Expansion) -> None:
        self._remove(expansion.parent_id)

    def on_abandon(self, tree: SearchTree, expansion: Expansion) -> None:
        self._add(expansion.parent_id, 1)

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None:
        # the parent's reserved slot became this child: only the child's own slots are new
        self._add(node.id, tree.free(node.id))

    def on_widen(self, tree: SearchTree, node_id: str, slots: int) -> None:
        self._add(node_id, slots)

    def snapshot(self) -> dict[str, Any]:
        # the order depends on the history of removals, and a draw picks by position
        return {"slots": list(self.slots)}

    def restore(self, data: dict[str, Any]) -> None:
        self.slots, self._where = [], {}
        for node_id in data.get("slots", []):
            self._add(node_id, 1)

    def _add(self, node_id: str, count: int) -> None:
        for _ in range(count):
            self._where.setdefault(node_id, set()).add(len(self.slots))
            self.slots.append(node_id)

    def _remove(self, node_id: str) -> None:
        """Drop one of the node's slots: the list's last entry moves into its place."""
        positions = self._where[node_id]
        at = max(positions)  # not set.pop(): its pick depends on the set's history
        positions.remove(at)
        if not positions:
            del self._where[node_id]
        last = len(self.slots) - 1
        moved = self.slots.pop()
        if at != last:
            self.slots[at] = moved
            where = self._where[moved]
            where.discard(last)
            where.add(at)
