"""The one search tree a run's workers share.

Two ways in, both synchronous and short, to be called inside one critical section
(``async with tree.locked():`` or, on a single event loop, simply without an await between):

* ``select(now_fraction, worker_id)`` picks a node and an operator, reserves one child slot on
  it and puts virtual loss on its path; it returns an ``Expansion`` (or None: nothing can be
  expanded right now).
* ``commit(expansion, outcome)`` attaches the finished child, backs its reward up to the root and
  takes the virtual loss off; ``abandon(expansion)`` gives the slot back instead.

Everything a select needs is kept incrementally, so a select + commit costs O(depth x branching)
however large the tree: per-node child lists, free child slots per subtree, in-flight counts
per subtree, the sorted ranking of working scores and the global best.

Children are attached only when they commit, so an in-flight step is never selectable and a
failed one leaves nothing behind (the original's "ghost children" and draft-lock leaks).
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

import anyio
from pydantic import BaseModel

from mlmaster.memory.insight import Operator
from mlmaster.search.node import Node, Outcome
from mlmaster.search.policy import Policy, make_policy
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
        self._capacity: dict[str, int] = {ROOT_ID: settings.num_drafts}
        self._pending: dict[str, Expansion] = {}  # child id -> reservation
        self._reserved: dict[str, int] = {}  # node id -> its reserved child slots
        self._in_flight: dict[str, int] = {ROOT_ID: 0}  # node id -> reservations at or below
        self._free: dict[str, int] = {ROOT_ID: settings.num_drafts}  # free slots per subtree
        self._ranking = MetricRanking(lower_is_better)
        self._improvable = MetricRanking(lower_is_better)  # working nodes with slots left
        self._debuggable = IndexedSet()  # buggy leaves that may get a debug child
        self._continuation: dict[str, str] = {}  # worker id -> node its rollout goes on with
        self._best_id: str | None = None
        self._counts = TreeCounts()
        self._steps = 0
        self._lock: anyio.Lock | None = None

    # ------------------------------------------------------------------ locking

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[SearchTree]:
        """The tree's lock, for callers that share it across event loops' tasks."""
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            yield self

    # ------------------------------------------------------------------ read-only views

    def is_root(self, node_id: str) -> bool:
        return node_id == self.root_id

    def capacity(self, node: Node) -> int:
        """How many children the node may ever have under the operator rules."""
        if node.terminal:
            return 0
        if node.operator == "root":
            return self.settings.num_drafts
        if node.needs_debug:
            return 1  # debugging forms a chain, one fix at a time
        return self.settings.num_improves

    def free(self, node_id: str) -> int:
        """Child slots of this node neither used nor reserved."""
        used = len(self.nodes[node_id].children) + self._reserved.get(node_id, 0)
        capacity = self._capacity[node_id]
        return capacity - used if capacity > used else 0

    def subtree_free(self, node_id: str) -> int:
        return self._free.get(node_id, 0)

    @property
    def free_below(self) -> Mapping[str, int]:
        """Free child slots per subtree, by node id (read only)."""
        return self._free

    @property
    def in_flight_counts(self) -> Mapping[str, int]:
        """Reservations at or below each node, by node id (read only): the virtual loss."""
        return self._in_flight

    def in_flight_below(self, node_id: str) -> int:
        """Reservations on this node or any descendant: its virtual-loss count."""
        return self._in_flight.get(node_id, 0)

    def in_flight(self) -> int:
        return len(self._pending)

    def pending(self) -> list[Expansion]:
        return list(self._pending.values())

    def take_continuation(self, worker_id: str) -> str | None:
        return self._continuation.pop(worker_id, None)

    def debuggable_leaves(self) -> IndexedSet:
        return self._debuggable

    def improvable_ids_best_first(self) -> Iterator[str]:
        """Working nodes that are not full yet (some may be briefly full of reservations)."""
        return self._improvable.best_first()

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
        node_id = self.policy.choose(self, min(max(now_fraction, 0.0), 1.0), worker_id)
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
        """Attach the finished child, back its reward up, release the reservation."""
        self._release(expansion)
        metric = outcome.metric
        buggy, reason = outcome.buggy, outcome.bug_reason
        if metric is not None and not math.isfinite(metric):
            metric, buggy = None, True
            reason = reason or f"the metric is not a finite number ({outcome.metric})"
        self._steps += 1
        node = Node(
            id=expansion.child_id,
            parent_id=expansion.parent_id,
            operator=expansion.operator,
            step=self._steps,
            plan=outcome.plan,
            code=outcome.code,
            execution=outcome.execution,
            metric=metric,
            valid_submission=outcome.valid_submission,
            buggy=buggy,
            bug_reason=reason,
            review_summary=outcome.review_summary,
            created_at=expansion.created_at,
            finished_at=time.time(),
            worker_id=outcome.worker_id or expansion.worker_id,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            cost=outcome.cost,
        )
        self._attach(node, expansion.worker_id)
        return node

    def abandon(self, expansion: Expansion) -> None:
        """Give a reserved slot back (the step failed). A settled expansion is left alone."""
        if expansion.settled or expansion.child_id not in self._pending:
            return
        self._release(expansion)
        self._continuation.pop(expansion.worker_id, None)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        version, internal, gauss = self.rng.getstate()
        return {
            "lower_is_better": self.lower_is_better,
            "seed": self.seed,
            "nodes": [n.model_dump(mode="json") for n in self._committed_in_order()],
            "pending": [e.model_dump(mode="json") for e in self._pending.values()],
            "continuations": dict(self._continuation),
            "rng": [version, list(internal), gauss],
        }

    @classmethod
    def from_dict(cls, settings: SearchSettings, data: dict[str, Any]) -> SearchTree:
        """The exact tree ``to_dict`` saw: same nodes, reservations, RNG and continuations."""
        nodes = [Node.model_validate(n) for n in data["nodes"]]
        tree = cls.from_nodes(
            settings, nodes, lower_is_better=data["lower_is_better"], seed=data["seed"]
        )
        for raw in data["pending"]:
            tree._reserve(Expansion.model_validate(raw))
        tree._continuation = dict(data["continuations"])
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

        Statistics stored on the nodes are ignored and recomputed, so the result is the tree
        the original was after those commits. Steps in flight at a crash are simply gone.
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
            node = stored.model_copy(
                update={"children": [], "visits": 0, "value_sum": 0.0, "terminal": False},
                deep=True,
            )
            tree._steps = max(tree._steps, node.step)
            tree._attach(node, node.worker_id or "")
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

    def _path_ids(self, node_id: str) -> list[str]:
        """The node's id and its ancestors' up to the root."""
        path: list[str] = []
        parent_of = self._parent_of
        current: str | None = node_id
        while current is not None:
            path.append(current)
            current = parent_of[current]
        return path

    def _adjust_free(self, node_id: str, delta: int) -> None:
        if delta:
            free = self._free
            for ancestor in self._path_ids(node_id):
                free[ancestor] = free.get(ancestor, 0) + delta

    def _adjust_in_flight(self, node_id: str, delta: int) -> None:
        in_flight = self._in_flight
        for ancestor in self._path_ids(node_id):
            in_flight[ancestor] = in_flight.get(ancestor, 0) + delta

    def _reserve(self, expansion: Expansion) -> None:
        parent_id = expansion.parent_id
        before = self.free(parent_id)
        self._reserved[parent_id] = self._reserved.get(parent_id, 0) + 1
        self._adjust_free(parent_id, self.free(parent_id) - before)
        self._adjust_in_flight(parent_id, +1)
        self._pending[expansion.child_id] = expansion

    def _release(self, expansion: Expansion) -> None:
        if expansion.settled or self._pending.pop(expansion.child_id, None) is None:
            raise ValueError(
                f"expansion {expansion.child_id} is not in flight: it was already committed "
                "or abandoned, or belongs to another tree"
            )
        parent_id = expansion.parent_id
        before = self.free(parent_id)
        self._reserved[parent_id] -= 1
        if not self._reserved[parent_id]:
            del self._reserved[parent_id]
        self._adjust_free(parent_id, self.free(parent_id) - before)
        self._adjust_in_flight(parent_id, -1)
        expansion.settled = True

    def _attach(self, node: Node, worker_id: str) -> None:
        """Link a finished node under its parent and apply every rule that follows from it."""
        settings = self.settings
        parent = self.nodes[node.parent_id or self.root_id]
        node.status = "done"
        node.depth = parent.depth + 1
        node.debug_depth = parent.debug_depth + 1 if parent.needs_debug else 0
        self._apply_chain_rules(node, parent)

        node.reward = node_reward(
            self._ranking,
            node.metric,
            node.working,
            buggy_reward=settings.buggy_reward,
            best_bonus=settings.best_bonus,
        )
        if node.working:
            assert node.metric is not None
            if self._ranking.beats_all(node.metric):
                self._best_id = node.id
            self._ranking.add(node.metric, node.id)

        parent_free = self.free(parent.id)
        parent.children.append(node.id)
        self.nodes[node.id] = node
        self._parent_of[node.id] = parent.id
        self._capacity[node.id] = self.capacity(node)
        self._in_flight[node.id] = 0
        own_free = self.free(node.id)
        self._free[node.id] = own_free
        # one walk up: free slots (the parent's change plus the child's) and the reward
        delta = self.free(parent.id) - parent_free + own_free
        free, nodes, reward = self._free, self.nodes, node.reward
        node.visits, node.value_sum = 1, reward
        for ancestor_id in self._path_ids(parent.id):
            free[ancestor_id] += delta
            # stats written straight to the field storage: pydantic's __setattr__ costs
            # more than the rest of a backup step, and these plain numbers need no validation
            fields = nodes[ancestor_id].__dict__
            fields["visits"] += 1
            fields["value_sum"] += reward

        self._debuggable.discard(parent.id)
        if node.needs_debug and not node.terminal:
            self._debuggable.add(node.id)
        if parent.working and len(parent.children) == self._capacity[parent.id]:
            assert parent.metric is not None
            self._improvable.remove(parent.metric, parent.id)
        if node.working and self._capacity[node.id] > 0:
            assert node.metric is not None
            self._improvable.add(node.metric, node.id)
        self._count(node)
        self._set_continuation(node, worker_id)

    def _apply_chain_rules(self, node: Node, parent: Node) -> None:
        """Stagnation of improvement chains and the debug-depth limit, as terminal flags."""
        settings = self.settings
        node.stagnation, node.local_best = 0, None
        if node.working:
            assert node.metric is not None
            chain_best = parent.local_best if parent.working else None
            if chain_best is None or improves(
                node.metric, chain_best, self.lower_is_better, settings.improvement_threshold
            ):
                node.local_best = node.metric
            else:
                node.local_best = chain_best
                node.stagnation = parent.stagnation + 1
                if node.stagnation >= settings.stagnation_limit:
                    node.terminal, node.terminal_reason = True, "improvement stagnated"
        elif node.debug_depth >= settings.max_debug_depth:
            node.terminal, node.terminal_reason = True, "debug depth limit"

    def _set_continuation(self, node: Node, worker_id: str) -> None:
        """ML-Master's debug rollout: stay on a fresh bug until the chain is deep enough."""
        self._continuation.pop(worker_id, None)
        if (
            worker_id
            and node.needs_debug
            and not node.terminal
            and node.debug_depth < self.settings.debug_backup_depth
        ):
            self._continuation[worker_id] = node.id

    def _count(self, node: Node) -> None:
        counts = self._counts
        counts.done += 1
        counts.valid += node.working
        counts.buggy += node.needs_debug
        counts.terminal += node.terminal


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
