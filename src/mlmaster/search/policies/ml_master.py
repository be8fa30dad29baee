"""ML-Master's selection: UCT over the tree with virtual loss and a debug rollout.

From the root: a node with a free child slot is expanded; otherwise descend to the child with
the highest UCT among those whose subtree still has a free slot. Each commit backs its node's
reward up to the root (visits and value sums, kept here, not on the nodes). Reservations count
against the slots, and virtual loss steers concurrent workers apart. A worker whose last step
produced a buggy node shallower than ``debug_backup_depth`` keeps debugging it (ML-Master's
debug rollout) before it goes back to the root.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from mlmaster.search.policies.base import SubtreeCounts

if TYPE_CHECKING:
    from mlmaster.search.node import Node
    from mlmaster.search.tree import Expansion, SearchTree
    from mlmaster.settings.model import SearchSettings


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


class MLMasterPolicy(SubtreeCounts):
    def __init__(self) -> None:
        super().__init__()
        self.visits: dict[str, int] = {}
        self.value_sum: dict[str, float] = {}
        self._continuation: dict[str, str] = {}  # worker id -> node its rollout goes on with

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        follow = self._continuation.pop(worker_id, None)
        if follow is not None and tree.free(follow) > 0:
            return follow
        if self.free_below.get(tree.root_id, 0) <= 0:
            return None
        c = exploration_constant(tree.settings, now_fraction)
        loss = tree.settings.virtual_loss
        nodes, free_below, flight = tree.nodes, self.free_below, self.in_flight
        visits, value_sum = self.visits, self.value_sum
        node_id = tree.root_id
        while tree.free(node_id) <= 0:
            log_parent = math.log(max(visits.get(node_id, 0) + flight[node_id], 1))
            best_id, best_score = None, -math.inf
            for child_id in nodes[node_id].children:
                if free_below[child_id] <= 0:
                    continue
                score = uct_score(
                    visits[child_id], value_sum[child_id], flight[child_id], log_parent, c, loss
                )
                if best_id is None or score > best_score:
                    best_id, best_score = child_id, score
            if best_id is None:  # cannot happen while the free counts are right
                return None
            node_id = best_id
        return node_id

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None:
        # one walk up: free slots, in-flight counts and the reward's backup together
        own = tree.free(node.id)
        free_below, in_flight, parent_of = self.free_below, self.in_flight, tree.parent_of
        visits, value_sum, reward = self.visits, self.value_sum, node.reward
        free_below[node.id], in_flight[node.id] = own, 0
        visits[node.id], value_sum[node.id] = 1, reward
        current: str | None = expansion.parent_id
        while current is not None:
            free_below[current] += own
            in_flight[current] -= 1
            visits[current] = visits.get(current, 0) + 1
            value_sum[current] = value_sum.get(current, 0.0) + reward
            current = parent_of[current]
        self._set_continuation(tree, node, expansion.worker_id)

    def _set_continuation(self, tree: SearchTree, node: Node, worker_id: str) -> None:
        """ML-Master's debug rollout: stay on a fresh bug until the chain is deep enough."""
        self._continuation.pop(worker_id, None)
        if (
            worker_id
            and node.needs_debug
            and not node.terminal
            and node.debug_depth < tree.settings.debug_backup_depth
        ):
            self._continuation[worker_id] = node.id

    def snapshot(self) -> dict[str, Any]:
        return {"continuations": dict(self._continuation)}

    def restore(self, data: dict[str, Any]) -> None:
        self._continuation = dict(data.get("continuations", {}))
