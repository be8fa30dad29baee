"""Small builders for search tests: settings, outcomes, and a brute-force invariant check."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from mlmaster.search import Expansion, Node, Outcome, SearchTree
from mlmaster.search.policies import GreedyPolicy, MLMasterPolicy, RandomPolicy
from mlmaster.search.policies.ml_master import FLIGHT, FREE, VALUE, VISITS
from mlmaster.settings.model import SearchSettings


def settings(**overrides: Any) -> SearchSettings:
    """Search settings; the root keeps exactly ``num_drafts`` drafts unless a test asks for
    progressive widening (``draft_widening``), so rule tests count slots exactly."""
    return SearchSettings(**({"draft_widening": 0.0} | overrides))


def working(metric: float, plan: str = "a plan") -> Outcome:
    return Outcome(plan=plan, code="print(1)", metric=metric, valid_submission=True)


def buggy(reason: str = "KeyError: 'y'") -> Outcome:
    return Outcome(plan="a buggy plan", code="raise", buggy=True, bug_reason=reason)


def step(tree: SearchTree, outcome: Outcome, worker: str = "w0", now: float = 0.0) -> Node:
    expansion = tree.select(now, worker)
    assert expansion is not None, "expected something to expand"
    return tree.commit(expansion, outcome)


def expand(tree: SearchTree, worker: str = "w0", now: float = 0.0) -> Expansion:
    expansion = tree.select(now, worker)
    assert expansion is not None, "expected something to expand"
    return expansion


def check_invariants(tree: SearchTree) -> None:
    """Recompute every cached quantity from scratch and compare."""
    pending = tree.pending()
    reserved: dict[str, int] = {}
    for e in pending:
        reserved[e.parent_id] = reserved.get(e.parent_id, 0) + 1
        assert not tree.nodes[e.parent_id].terminal, "a terminal node was selected"
        assert e.child_id not in tree.nodes

    def subtree(node_id: str) -> list[str]:
        out, stack = [], [node_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(tree.nodes[current].children)
        return out

    done = free_total = 0
    for node in tree.nodes.values():
        used = len(node.children) + reserved.get(node.id, 0)
        assert (
            used <= tree.capacity(node)
            or (node.terminal and used == 0)
            or (tree.capacity(node) == 0 and not node.children and used == 0)
        ), f"child limit exceeded at {node.id}"
        if node.terminal:
            assert not node.children and reserved.get(node.id, 0) == 0
        if node.operator != "root":
            done += 1
            assert node.id in tree.nodes[node.parent_id or ""].children
        members = subtree(node.id)
        assert tree.free(node.id) >= 0
        free_total += tree.free(node.id)
        policy = tree.policy
        if isinstance(policy, MLMasterPolicy):
            stats = policy.stats
            child_visits = sum(stats[c][VISITS] for c in node.children)
            child_values = sum(stats[c][VALUE] for c in node.children)
            own_visits, own_value = (0, 0.0) if node.operator == "root" else (1, node.reward)
            assert stats[node.id][VISITS] == own_visits + child_visits
            assert math.isclose(stats[node.id][VALUE], own_value + child_values, abs_tol=1e-6)
            assert stats[node.id][FLIGHT] == sum(reserved.get(m, 0) for m in members)
            assert stats[node.id][FREE] == sum(tree.free(m) for m in members)
    assert tree.free_total() == free_total
    if isinstance(tree.policy, RandomPolicy):
        expected = {n: tree.free(n) for n in tree.nodes if tree.free(n) > 0}
        assert Counter(tree.policy.slots) == expected
    if isinstance(tree.policy, GreedyPolicy):
        greedy = tree.policy
        assert set(greedy.debuggable) == {
            n.id for n in tree.nodes.values() if n.needs_debug and not n.terminal and not n.children
        }
        improvable = greedy.improvable_best_first()
        assert set(improvable) == {
            n.id for n in tree.nodes.values() if n.working and len(n.children) < tree.capacity(n)
        }
        assert improvable == [i for i in tree.working_ids_best_first() if i in set(improvable)]
    assert tree.counts().done == done
    assert tree.counts().in_flight == len(pending)
    if not pending and isinstance(tree.policy, MLMasterPolicy):
        assert all(entry[FLIGHT] == 0 for entry in tree.policy.stats.values())


def stats(tree: SearchTree) -> dict[str, tuple[Any, ...]]:
    policy = tree.policy
    ml_master = isinstance(policy, MLMasterPolicy)
    visits = {k: v[VISITS] for k, v in policy.stats.items()} if ml_master else {}
    values = {k: v[VALUE] for k, v in policy.stats.items()} if ml_master else {}
    return {
        n.id: (
            n.parent_id,
            tuple(n.children),
            visits.get(n.id, 0),
            round(values.get(n.id, 0.0), 9),
            round(n.reward, 9),
            n.terminal,
            n.debug_depth,
            n.stagnation,
        )
        for n in tree.nodes.values()
    }
