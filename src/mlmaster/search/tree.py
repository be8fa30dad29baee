"""The one search tree a run's workers share.

The tree is confined to the run's event loop and every method is synchronous: a caller never
awaits between reading the tree and changing it, so on one event loop each call runs whole and
no lock is needed (nor offered). Two ways in, both short:

* ``select(now_fraction, worker_id)`` asks the policy for a node, derives the operator,
  reserves one child slot on it and returns an ``Expansion`` (or None: nothing can be expanded
  right now, while other steps are in flight);
* ``commit(expansion, outcome)`` attaches the finished child with its reward and chain flags;
  ``abandon(expansion)`` gives the slot back instead.

The tree keeps only what every policy needs, each kept incrementally at O(1) or O(log n) per
call whatever the size: nodes with their children and parent, each node's capacity and
reservations, the ranking of working scores (rewards and the best node) and counts. What one
policy needs (UCT statistics, subtree counts, greedy's indexes) is the policy's own, kept
through its hooks (see ``policies/base.py``).

A run stops only at its budget or caps: when no free slot is left anywhere and nothing is in
flight (every chain stagnated or hit its debug limit), the root gets ``num_drafts`` more draft
slots (widening) instead of ending the search.

Children are attached only when they commit, so an in-flight step is never selectable and a
failed one leaves nothing behind (the original's "ghost children" and draft-lock leaks).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from pydantic import BaseModel

from mlmaster.search.node import Node, Operator, Outcome
from mlmaster.search.policies import Policy, make_policy
from mlmaster.search.reward import MetricRanking, improves, node_reward
from mlmaster.settings.model import SearchSettings

ROOT_ID = "root"


class Expansion(BaseModel):
    """A reserved child slot: the step in flight that will create node ``child_id``."""

    child_id: str
    parent_id: str
    operator: Operator
    worker_id: str
    created_at: float = 0.0
    settled: bool = False  # committed or abandoned


class TreeCounts(BaseModel):
    done: int = 0  # committed nodes, the root excluded
    valid: int = 0  # working: valid submission with a metric
    buggy: int = 0  # need debugging
    terminal: int = 0
    in_flight: int = 0


class SearchTree:
    def __init__(self, settings: SearchSettings, *, lower_is_better: bool, seed: int = 0) -> None:
        self.settings = settings
        self.lower_is_better = lower_is_better
        self.seed = seed
        self.rng = random.Random(seed)
        self.policy: Policy = make_policy(settings.policy)
        self.root_id = ROOT_ID
        self.nodes: dict[str, Node] = {ROOT_ID: Node(id=ROOT_ID, operator="root")}
        # plain-dict mirrors of what every select reads, to keep the hot path cheap
        self._parent_of: dict[str, str | None] = {ROOT_ID: None}
        self._capacity: dict[str, int] = {ROOT_ID: 0}  # set below, with the free total
        self._pending: dict[str, Expansion] = {}  # child id -> reservation
        self._reserved: dict[str, int] = {}  # node id -> its reserved child slots
        self._free_total = 0  # free child slots in the whole tree
        self._ranking = MetricRanking(lower_is_better)
        self._best_id: str | None = None
        self._counts = TreeCounts()
        self._steps = 0
        self.widenings = 0  # times the root got more draft slots since nothing else was left
        self._grow(ROOT_ID, settings.num_drafts)

    # ------------------------------------------------------------------ read-only views

    def is_root(self, node_id: str) -> bool:
        return node_id == self.root_id

    def capacity(self, node: Node) -> int:
        """How many children the node may have: by the operator rules, plus any slots added
        (widening, or a replayed history the current settings would not allow)."""
        return self._capacity[node.id]

    def _rule_capacity(self, node: Node) -> int:
        """How many children the operator rules give a newly committed node."""
        if node.terminal:
            return 0
        if node.needs_debug:
            return 1  # debugging forms a chain, one fix at a time
        return self.settings.num_improves

    def free(self, node_id: str) -> int:
        """Child slots of this node neither used nor reserved."""
        used = len(self.nodes[node_id].children) + self._reserved.get(node_id, 0)
        capacity = self._capacity[node_id]
        return capacity - used if capacity > used else 0

    def free_total(self) -> int:
        """Free child slots in the whole tree."""
        return self._free_total

    @property
    def parent_of(self) -> Mapping[str, str | None]:
        """Each node's parent id (the root's is None), read only: for walks to the root."""
        return self._parent_of

    def in_flight(self) -> int:
        return len(self._pending)

    def pending(self) -> list[Expansion]:
        return list(self._pending.values())

    def working_ids_best_first(self) -> Iterator[str]:
        return self._ranking.best_first()

    def best_node(self) -> Node | None:
        return self.nodes[self._best_id] if self._best_id else None

    def valid_nodes(self) -> list[Node]:
        """Working nodes, best first."""
        return [self.nodes[i] for i in self.working_ids_best_first()]

    def counts(self) -> TreeCounts:
        return self._counts.model_copy(update={"in_flight": len(self._pending)})

    def path_to_root(self, node_id: str) -> Iterator[Node]:
        current: str | None = node_id
        while current is not None:
            node = self.nodes[current]
            yield node
            current = node.parent_id

    # ------------------------------------------------------------------ select / commit

    def select(self, now_fraction: float, worker_id: str) -> Expansion | None:
        """Pick a node and operator with the configured policy and reserve the child slot."""
        fraction = min(max(now_fraction, 0.0), 1.0)
        if self._free_total <= 0 and not self._pending:
            self._widen()
        node_id = self.policy.choose(self, fraction, worker_id)
        if node_id is None or self.free(node_id) <= 0:
            return None
        node = self.nodes[node_id]
        operator: Operator = (
            "draft" if node.operator == "root" else "debug" if node.needs_debug else "improve"
        )
        expansion = Expansion(
            child_id=self._new_id(),
            parent_id=node_id,
            operator=operator,
            worker_id=worker_id,
            created_at=time.time(),
        )
        self._reserve(expansion)
        return expansion

    def commit(self, expansion: Expansion, outcome: Outcome) -> Node:
        """Attach the finished child and release its reservation."""
        self._release(expansion)
        self._steps += 1
        node = Node(
            id=expansion.child_id,
            parent_id=expansion.parent_id,
            operator=expansion.operator,
            step=self._steps,
            created_at=expansion.created_at,
            finished_at=time.time(),
            **{**dict(outcome), "worker_id": outcome.worker_id or expansion.worker_id},
        )
        if node.metric is not None and not math.isfinite(node.metric):
            node.bug_reason = node.bug_reason or (
                f"the metric is not a finite number ({node.metric})"
            )
            node.metric, node.buggy = None, True
        self._attach(node, expansion)
        return node

    def abandon(self, expansion: Expansion) -> None:
        """Give a reserved slot back (the step failed). A settled expansion is left alone."""
        if expansion.settled or expansion.child_id not in self._pending:
            return
        self._release(expansion)
        self.policy.on_abandon(self, expansion)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        version, internal, gauss = self.rng.getstate()
        return {
            "lower_is_better": self.lower_is_better,
            "seed": self.seed,
            "nodes": [n.model_dump(mode="json") for n in self._committed_in_order()],
            "pending": [e.model_dump(mode="json") for e in self._pending.values()],
            "root_capacity": self._capacity[ROOT_ID],
            "policy": self.policy.snapshot(),
            "rng": [version, list(internal), gauss],
        }

    @classmethod
    def from_dict(cls, settings: SearchSettings, data: dict[str, Any]) -> SearchTree:
        """The exact tree ``to_dict`` saw: same nodes, reservations, RNG and policy state."""
        nodes = [Node.model_validate(n) for n in data["nodes"]]
        tree = cls.from_nodes(
            settings, nodes, lower_is_better=data["lower_is_better"], seed=data["seed"]
        )
        extra = data.get("root_capacity", settings.num_drafts) - tree._capacity[ROOT_ID]
        if extra > 0:
            tree._grow(ROOT_ID, extra)
        for raw in data["pending"]:
            tree._reserve(Expansion.model_validate(raw))
        tree.policy.restore(data.get("policy", {}))
        version, internal, gauss = data["rng"]
        tree.rng.setstate((version, tuple(internal), gauss))
        return tree

    @classmethod
    def from_nodes(
        cls,
        settings: SearchSettings,
        nodes: Iterable[Node],
        *,
        lower_is_better: bool,
        seed: int = 0,
    ) -> SearchTree:
        """Rebuild from committed nodes (the journal) by replaying them in commit order.

        Search state stored on the nodes is ignored and recomputed, so the result is the tree
        the original was after those commits. Steps in flight at a crash are simply gone.
        Root slots added by widening come back as far as drafts used them.
        """
        ordered = sorted((n for n in nodes if n.operator != "root"), key=lambda n: n.step)
        tree = cls(settings, lower_is_better=lower_is_better, seed=seed)
        # a fresh stream, distinct from the first session's, so new ids do not repeat old ones
        tree.rng = random.Random(f"{seed}:{len(ordered)}")
        for stored in ordered:
            if stored.parent_id not in tree.nodes:
                raise ValueError(
                    f"node {stored.id} names parent {stored.parent_id!r}, which no earlier "
                    "node created: the journal is damaged or out of order"
                )
            if stored.id in tree.nodes:
                raise ValueError(f"node {stored.id} appears twice in the journal")
            # shallow: the nodes' texts and execution summaries are shared, never changed
            node = stored.model_copy(update={"children": []})
            tree._steps = max(tree._steps, node.step)
            tree._replay(node)
        return tree

    # ------------------------------------------------------------------ internals

    def _committed_in_order(self) -> list[Node]:
        return sorted(
            (n for n in self.nodes.values() if n.operator != "root"), key=lambda n: n.step
        )

    def _new_id(self) -> str:
        while True:
            candidate = f"{self.rng.getrandbits(48):012x}"
            if candidate not in self.nodes and candidate not in self._pending:
                return candidate

    def _set_capacity(self, node_id: str, capacity: int) -> None:
        before = self.free(node_id)
        self._capacity[node_id] = capacity
        self._free_total += self.free(node_id) - before

    def _widen(self) -> None:
        """Nothing left to expand while time remains: give the root more draft slots."""
        self._grow(ROOT_ID, self.settings.num_drafts)
        self.widenings += 1

    def add_slots(self, node_id: str, slots: int) -> None:
        """Give a node more child slots: for a policy that widens on its own schedule (the
        policy's ``on_widen`` hears of it like any widening)."""
        if slots > 0:
            self._grow(node_id, slots)

    def _grow(self, node_id: str, slots: int) -> None:
        self._set_capacity(node_id, self._capacity[node_id] + slots)
        self.policy.on_widen(self, node_id, slots)

    def _replay(self, node: Node) -> None:
        """Commit a journaled node again, through the same reserve and commit as a step."""
        parent_id = node.parent_id or ROOT_ID
        if self.free(parent_id) <= 0:
            # More children than the rules allow now: the root was widened, or the settings
            # changed between sessions. The history stands: the parent gets the slots.
            self._grow(parent_id, self.settings.num_drafts if parent_id == ROOT_ID else 1)
        expansion = Expansion(
            child_id=node.id,
            parent_id=parent_id,
            operator=cast(Operator, node.operator),
            worker_id=node.worker_id or "",
        )
        self._reserve(expansion)
        self._release(expansion)
        self._attach(node, expansion)

    def _reserve(self, expansion: Expansion) -> None:
        parent_id = expansion.parent_id
        self._reserved[parent_id] = self._reserved.get(parent_id, 0) + 1
        self._free_total -= 1
        self._pending[expansion.child_id] = expansion
        self.policy.on_reserve(self, expansion)

    def _release(self, expansion: Expansion) -> None:
        if expansion.settled or self._pending.pop(expansion.child_id, None) is None:
            raise ValueError(
                f"expansion {expansion.child_id} is not in flight: it was already committed "
                "or abandoned, or belongs to another tree"
            )
        parent_id = expansion.parent_id
        self._reserved[parent_id] -= 1
        if not self._reserved[parent_id]:
            del self._reserved[parent_id]
        self._free_total += 1
        expansion.settled = True

    def _attach(self, node: Node, expansion: Expansion) -> None:
        """Link a finished node under its parent and apply every rule that follows from it.

        Called right after the reservation on the parent was released (a commit, or a replay
        of one); the child takes that slot.
        """
        settings = self.settings
        parent = self.nodes[expansion.parent_id]
        state = self._chain_state(node, parent)
        state["reward"] = node_reward(
            self._ranking,
            node.metric,
            node.working,
            buggy_reward=settings.buggy_reward,
            best_bonus=settings.best_bonus,
        )
        # Written to the field storage at once: pydantic's __setattr__ costs more than the
        # rules themselves, and these plain values need no validation.
        node.__dict__.update(state)
        if node.working:
            assert node.metric is not None
            if self._ranking.beats_all(node.metric):
                self._best_id = node.id
            self._ranking.add(node.metric, node.id)

        parent.children.append(node.id)  # takes the slot its reservation released
        capacity = self._rule_capacity(node)
        self._free_total += capacity - 1
        self.nodes[node.id] = node
        self._parent_of[node.id] = parent.id
        self._capacity[node.id] = capacity
        self._count(node)
        self.policy.on_commit(self, expansion, node)

    def _chain_state(self, node: Node, parent: Node) -> dict[str, Any]:
        """The node's place in its chains: depth, debug depth, stagnation of improvement
        chains, and the terminal flag of a chain that stagnated or hit the debug-depth limit."""
        settings = self.settings
        debug_depth = parent.debug_depth + 1 if parent.needs_debug else 0
        state: dict[str, Any] = {
            "status": "done",
            "depth": parent.depth + 1,
            "debug_depth": debug_depth,
            "stagnation": 0,
            "local_best": None,
            "terminal": False,
            "terminal_reason": None,
        }
        if node.working:
            assert node.metric is not None
            chain_best = parent.local_best if parent.working else None
            if chain_best is None or improves(
                node.metric, chain_best, self.lower_is_better, settings.improvement_threshold
            ):
                state["local_best"] = node.metric
            else:
                stagnation = parent.stagnation + 1
                state.update(local_best=chain_best, stagnation=stagnation)
                if stagnation >= settings.stagnation_limit:
                    state.update(terminal=True, terminal_reason="improvement stagnated")
        elif debug_depth >= settings.max_debug_depth:
            state.update(terminal=True, terminal_reason="debug depth limit")
        return state

    def _count(self, node: Node) -> None:
        counts = self._counts
        counts.done += 1
        counts.valid += node.working
        counts.buggy += node.needs_debug
        counts.terminal += node.terminal
