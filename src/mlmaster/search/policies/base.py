"""The ``Policy`` seam: what a selection policy must do, and the pieces policies share.

A policy *chooses* which node gets the next child: ``choose`` returns the id of a node with a
free child slot (or None). The tree then derives the operator from the node (root: draft; a node
that needs debugging: debug; a working node: improve), reserves the slot and tells the policy
through its hooks, so a policy keeps whatever index it needs and pays only for that:

* ``on_reserve(tree, expansion)``: a slot on ``expansion.parent_id`` was reserved;
* ``on_abandon(tree, expansion)``: that reservation was given back;
* ``on_commit(tree, expansion, node)``: the reservation became ``node`` (already in the tree,
  its reward and chain flags set); also called for every node when a tree is replayed;
* ``on_widen(tree, node_id, slots)``: ``node_id`` got ``slots`` more child slots.

``snapshot``/``restore`` carry state the replay of commits cannot rebuild (a worker's pending
rollout). Every random choice draws from ``tree.rng``, so a tree and its rebuilt copy choose
alike. A new policy is one module with one class (derive from ``PolicyBase`` for no-op hooks)
and one line in ``mlmaster.search.policies.REGISTRY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mlmaster.search.node import Node
    from mlmaster.search.tree import Expansion, SearchTree


class Policy(Protocol):
    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None: ...

    def on_reserve(self, tree: SearchTree, expansion: Expansion) -> None: ...

    def on_abandon(self, tree: SearchTree, expansion: Expansion) -> None: ...

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None: ...

    def on_widen(self, tree: SearchTree, node_id: str, slots: int) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, data: dict[str, Any]) -> None: ...


class PolicyBase:
    """No-op hooks and no state: a policy that reads only the tree overrides ``choose``."""

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        raise NotImplementedError

    def on_reserve(self, tree: SearchTree, expansion: Expansion) -> None:
        return None

    def on_abandon(self, tree: SearchTree, expansion: Expansion) -> None:
        return None

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None:
        return None

    def on_widen(self, tree: SearchTree, node_id: str, slots: int) -> None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, data: dict[str, Any]) -> None:
        return None


class SubtreeCounts(PolicyBase):
    """Free child slots and reservations per subtree, for policies that descend from the root.

    Every hook walks once from the changed node to the root, so a hook costs O(depth); a
    policy that never descends (greedy) does not pay it.
    """

    def __init__(self) -> None:
        self.free_below: dict[str, int] = {}  # free child slots at or below each node
        self.in_flight: dict[str, int] = {}  # reservations at or below each node

    def on_reserve(self, tree: SearchTree, expansion: Expansion) -> None:
        self._walk(tree, expansion.parent_id, free=-1, flight=+1)

    def on_abandon(self, tree: SearchTree, expansion: Expansion) -> None:
        self._walk(tree, expansion.parent_id, free=+1, flight=-1)

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None:
        # The parent's free count is unchanged (one reservation became one child); the new
        # node brings its own slots, and the reservation's in-flight count goes.
        own = tree.free(node.id)
        self.free_below[node.id] = own
        self.in_flight[node.id] = 0
        self._walk(tree, expansion.parent_id, free=own, flight=-1)

    def on_widen(self, tree: SearchTree, node_id: str, slots: int) -> None:
        self._walk(tree, node_id, free=slots, flight=0)

    def _walk(self, tree: SearchTree, node_id: str, *, free: int, flight: int) -> None:
        free_below, in_flight, parent_of = self.free_below, self.in_flight, tree.parent_of
        current: str | None = node_id
        while current is not None:
            free_below[current] = free_below.get(current, 0) + free
            in_flight[current] = in_flight.get(current, 0) + flight
            current = parent_of[current]
