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
