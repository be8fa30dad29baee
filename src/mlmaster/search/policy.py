"""Which node to expand next: ML-Master's UCT, AIDE's greedy rule, or uniform random.

A policy only *chooses*: it reads the tree through its read-only helpers and returns the id of
a node with a free child slot (or None). The tree then derives the operator from the node
(root: draft; a node that needs debugging: debug; a working node: improve), reserves the slot
and applies virtual loss. Every random choice draws from the tree's seeded RNG, so a run and a
tree rebuilt from its serialised form choose alike.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Protocol

from mlmaster.settings.model import SearchSettings

if TYPE_CHECKING:
    from mlmaster.search.tree import SearchTree


class Policy(Protocol):
    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None: ...


def exploration_constant(settings: SearchSettings, now_fraction: float) -> float:
    """C for the share of the time budget used: piecewise linear between the breakpoints.

    Decaying with *time* rather than a step count keeps the schedule the same whatever the
    number of workers (the original counted journal nodes, which parallel workers inflate).
    Without a breakpoint at 0, C starts at ``uct_c_start``; it never drops below ``uct_c_floor``.
    """
    points = sorted(settings.uct_decay)
    if not points or points[0][0] > 0:
        points.insert(0, (0.0, settings.uct_c_start))
    c = points[-1][1]  # past the last breakpoint
    for (x0, c0), (x1, c1) in itertools.pairwise(points):
        if now_fraction < x1:
            share = 0.0 if x1 == x0 else max(now_fraction - x0, 0.0) / (x1 - x0)
            c = c0 + (c1 - c0) * share
            break
    return max(c, settings.uct_c_floor)


def uct_score(
    visits: int, value_sum: float, in_flight: int, log_parent_visits: float, c: float, loss: float
) -> float:
    """``Q/N + C*sqrt(ln N_parent / N)`` with each in-flight expansion below counted as a
    visit that lost ``loss`` (virtual loss). Unvisited children score +inf (tried first)."""
    n = visits + in_flight
    if n <= 0:
        return math.inf
    return (value_sum - loss * in_flight) / n + c * math.sqrt(log_parent_visits / n)


class MLMasterPolicy:
    """ML-Master's selection, defects fixed.

    From the root: a node with a free child slot is expanded; otherwise descend to the child
    with the highest UCT among those whose subtree still has a free slot. Reservations count
    against the slots, and virtual loss steers concurrent workers apart. A worker whose last
    step produced a buggy node shallower than ``debug_backup_depth`` keeps debugging it
    (ML-Master's debug rollout) before it goes back to the root.
    """

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        follow = tree.take_continuation(worker_id)
        if follow is not None and tree.free(follow) > 0:
            return follow
        if tree.subtree_free(tree.root_id) <= 0:
            return None
        c = exploration_constant(tree.settings, now_fraction)
        loss = tree.settings.virtual_loss
        nodes, free_below, flight = tree.nodes, tree.free_below, tree.in_flight_counts
        node_id = tree.root_id
        while tree.free(node_id) <= 0:
            node = nodes[node_id]
            log_parent = math.log(max(node.visits + flight[node_id], 1))
            best_id, best_score = None, -math.inf
            for child_id in node.children:
                if free_below[child_id] <= 0:
                    continue
                child = nodes[child_id]
                score = uct_score(
                    child.visits, child.value_sum, flight[child_id], log_parent, c, loss
                )
                if best_id is None or score > best_score:
                    best_id, best_score = child_id, score
            if best_id is None:  # cannot happen while the free counts are right
                return None
            node_id = best_id
        return node_id


class GreedyPolicy:
    """AIDE's rule: drafts first; then debug a random buggy leaf with probability
    ``greedy_debug_prob``, else improve the best working node that has a free slot."""

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

    @staticmethod
    def _buggy_leaf(tree: SearchTree) -> str | None:
        leaves = tree.debuggable_leaves()
        # a few random draws find a free leaf unless most are reserved; then scan the rest
        for _ in range(min(len(leaves), 8)):
            pick = leaves[tree.rng.randrange(len(leaves))]
            if tree.free(pick) > 0:
                return pick
        free = [leaf for leaf in leaves if tree.free(leaf) > 0]
        return tree.rng.choice(free) if free else None

    @staticmethod
    def _best_working(tree: SearchTree) -> str | None:
        for node_id in tree.improvable_ids_best_first():
            if tree.free(node_id) > 0:
                return node_id
        return None


class RandomPolicy:
    """Uniform over all free child slots in the tree, by a descent weighted with free counts."""

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        total = tree.subtree_free(tree.root_id)
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
                weight = tree.subtree_free(child_id)
                if r < weight:
                    node_id = child_id
                    break
                r -= weight
            else:  # cannot happen while the free counts are right
                return None


def make_policy(name: str) -> Policy:
    policies: dict[str, Policy] = {
        "ml-master": MLMasterPolicy(),
        "greedy": GreedyPolicy(),
        "random": RandomPolicy(),
    }
    if name not in policies:
        raise ValueError(f"unknown search policy {name!r}; choose one of {', '.join(policies)}")
    return policies[name]
