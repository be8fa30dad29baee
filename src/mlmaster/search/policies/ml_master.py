"""ML-Master's selection: UCT over the tree with virtual loss and a debug rollout, and
progressive widening of the root.

From the root: a node with a free child slot is expanded; otherwise descend to the child with
the highest UCT among those whose subtree still has a free slot. Each commit backs its node's
reward up to the root (visits and value sums, kept here, not on the nodes). Reservations count
against the slots, and virtual loss steers concurrent workers apart. A worker whose last step
produced a buggy node shallower than ``debug_backup_depth`` keeps debugging it (ML-Master's
debug rollout) before it goes back to the root. The root's draft slots grow with its visits
(``draft_widening``): the original's fixed five drafts leave a run of hundreds of nodes
improving the few approaches it happened to draft first.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from mlmaster.search.policies.base import PolicyBase

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


# Per node, one small list updated in place (one lookup per level of a walk, not four):
FREE, FLIGHT, VISITS, VALUE = 0, 1, 2, 3  # free slots and reservations at or below the node,
# and UCT's visits and reward sum over its subtree


class MLMasterPolicy(PolicyBase):
    def __init__(self) -> None:
        self.stats: dict[str, list[Any]] = {}
        self._continuation: dict[str, str] = {}  # worker id -> node its rollout goes on with

    def choose(self, tree: SearchTree, now_fraction: float, worker_id: str) -> str | None:
        follow = self._continuation.pop(worker_id, None)
        if follow is not None and tree.free(follow) > 0:
            return follow
        stats = self.stats
        self._widen_root(tree)
        if stats[tree.root_id][FREE] <= 0:
            return None
        c = exploration_constant(tree.settings, now_fraction)
        loss = tree.settings.virtual_loss
        nodes, sqrt = tree.nodes, math.sqrt
        node_id = tree.root_id
        while tree.free(node_id) <= 0:
            own = stats[node_id]
            log_parent = math.log(max(own[VISITS] + own[FLIGHT], 1))
            best_id, best_score = None, -math.inf
            for child_id in nodes[node_id].children:
                free, flight, visits, value = stats[child_id]
                if free <= 0:
                    continue
                # uct_score, inlined: this loop is the hot path (a committed child has n >= 1)
                n = visits + flight
                score = (value - loss * flight) / n + c * sqrt(log_parent / n)
                if best_id is None or score > best_score:
                    best_id, best_score = child_id, score
            if best_id is None:  # cannot happen while the free counts are right
                return None
            node_id = best_id
        return node_id

    def _widen_root(self, tree: SearchTree) -> None:
        """Progressive widening: the root may have ``visits ** draft_widening`` drafts (at
        least ``num_drafts``), so a long run keeps trying new approaches as it grows; at most
        ``max_drafts``, since every descent scans the root's children."""
        settings = tree.settings
        if settings.draft_widening > 0:
            root = tree.nodes[tree.root_id]
            allowed = int(self.stats[root.id][VISITS] ** settings.draft_widening)
            allowed = min(allowed, settings.max_drafts)
            tree.add_slots(root.id, allowed - tree.capacity(root))

    def on_reserve(self, tree: SearchTree, expansion: Expansion) -> None:
        self._walk(tree, expansion.parent_id, free=-1, flight=+1)

    def on_abandon(self, tree: SearchTree, expansion: Expansion) -> None:
        self._walk(tree, expansion.parent_id, free=+1, flight=-1)

    def on_widen(self, tree: SearchTree, node_id: str, slots: int) -> None:
        self.stats.setdefault(node_id, [0, 0, 0, 0.0])
        self._walk(tree, node_id, free=slots, flight=0)

    def on_commit(self, tree: SearchTree, expansion: Expansion, node: Node) -> None:
        # One walk up: the parent's free count is unchanged (its reservation became this
        # child), the child's own slots are new, the reservation's in-flight count goes, and
        # the reward is backed up.
        own, reward = tree.free(node.id), node.reward
        self.stats[node.id] = [own, 0, 1, reward]
        stats, parent_of = self.stats, tree.parent_of
        current: str | None = expansion.parent_id
        while current is not None:
            entry = stats[current]
            entry[FREE] += own
            entry[FLIGHT] -= 1
            entry[VISITS] += 1
            entry[VALUE] += reward
            current = parent_of[current]
        self._set_continuation(tree, node, expansion.worker_id)

    def _walk(self, tree: SearchTree, node_id: str, *, free: int, flight: int) -> None:
        stats, parent_of = self.stats, tree.parent_of
        current: str | None = node_id
        while current is not None:
            entry = stats[current]
            entry[FREE] += free
            entry[FLIGHT] += flight
            current = parent_of[current]

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
