"""Small builders for search tests: settings, outcomes, and a brute-force invariant check."""

from __future__ import annotations

import math
from typing import Any

from mlmaster.search import Expansion, Node, Outcome, SearchTree
from mlmaster.settings.model import SearchSettings


def settings(**overrides: Any) -> SearchSettings:
    return SearchSettings(**overrides)


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

    done = 0
    for node in tree.nodes.values():
        used = len(node.children) + reserved.get(node.id, 0)
        assert (
            used <= tree.capacity(node)
            or (node.terminal and used == 0)
            or (tree.capacity(node) == 0 and not node.children and used == 0)
        ), f"child limit exceeded at {node.id}"
        if node.terminal:
            assert not node.children and reserved.get(node.id, 0) == 0
        child_visits = sum(tree.nodes[c].visits for c in node.children)
        child_values = sum(tree.nodes[c].value_sum for c in node.children)
        if node.operator == "root":
            assert node.visits == child_visits
            assert math.isclose(node.value_sum, child_values, abs_tol=1e-6)
        else:
            done += 1
            assert node.visits == 1 + child_visits
            assert math.isclose(node.value_sum, node.reward + child_values, abs_tol=1e-6)
            assert node.id in tree.nodes[node.parent_id or ""].children
        members = subtree(node.id)
        assert tree.in_flight_below(node.id) == sum(reserved.get(m, 0) for m in members)
        assert tree.subtree_free(node.id) == sum(tree.free(m) for m in members)
    assert set(tree.debuggable_leaves()) == {
        n.id for n in tree.nodes.values() if n.needs_debug and not n.terminal and not n.children
    }
    improvable = list(tree.improvable_ids_best_first())
    assert set(improvable) == {
        n.id for n in tree.nodes.values() if n.working and len(n.children) < tree.capacity(n)
    }
    assert improvable == [i for i in tree.working_ids_best_first() if i in set(improvable)]
    assert tree.counts().done == done
    assert tree.counts().in_flight == len(pending)
    if not pending:
        assert all(tree.in_flight_below(n) == 0 for n in tree.nodes)


def stats(tree: SearchTree) -> dict[str, tuple[Any, ...]]:
    return {
        n.id: (
            n.parent_id,
            tuple(n.children),
            n.visits,
            round(n.value_sum, 9),
            round(n.reward, 9),
            n.terminal,
            n.debug_depth,
            n.stagnation,
        )
        for n in tree.nodes.values()
    }
