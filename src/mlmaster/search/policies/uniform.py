"""The ``random`` policy: uniform over all free child slots in the tree (a baseline), by a
descent from the root weighted with each subtree's free slots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlmaster.search.policies.base import SubtreeCounts

if TYPE_CHECKING:
    from mlmaster.search.tree import SearchTree


class RandomPolicy(SubtreeCounts):
    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        free_below = self.free_below
        total = free_below.get(tree.root_id, 0)
        if total <= 0:
            return None
        r = tree.rng.randrange(total)
        node_id = tree.root_id
        while True:
            own = tree.free(node_id)
            if r < own:
                return node_id
            r -= own
            for child_id in tree.nodes[node_id].children:
                weight = free_below[child_id]
                if r < weight:
                    node_id = child_id
                    break
                r -= weight
            else:  # cannot happen while the free counts are right
                return None
