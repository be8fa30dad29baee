"""A search never runs out of work while time remains: the tree widens instead of ending.

With a constant metric every improvement chain stagnates and every debug chain ends, so the
rules alone close the whole tree after a few hundred nodes; a run of 12 hours must go on.
"""

from __future__ import annotations

import pytest
from search_helpers import buggy, check_invariants, expand, settings, step, working

from mlmaster.search import SearchTree, policy_names

SMALL = {"num_drafts": 2, "num_improves": 2, "stagnation_limit": 1, "max_debug_depth": 2}


@pytest.mark.parametrize("policy", policy_names())
def test_a_constant_metric_never_exhausts_the_search(policy: str) -> None:
    tree = SearchTree(settings(policy=policy, **SMALL), lower_is_better=False, seed=1)
    for i in range(300):
        node = step(tree, working(0.5) if i % 4 else buggy(), worker=f"w{i % 3}")
        assert node.parent_id in tree.nodes
    check_invariants(tree)
    assert tree.counts().done == 300
    assert tree.widenings > 0
    assert len(tree.nodes[tree.root_id].children) > SMALL["num_drafts"]


def test_widening_waits_while_steps_are_in_flight() -> None:
    # Nothing free, one step running: its commit may open slots, so nothing is added yet.
    tree = SearchTree(settings(**SMALL), lower_is_better=False)
    drafts = [expand(tree, "w0"), expand(tree, "w1")]
    assert tree.select(0.0, "w2") is None
    assert tree.widenings == 0
    for draft in drafts:
        tree.commit(draft, buggy())
    check_invariants(tree)


def test_widening_adds_num_drafts_draft_slots_to_the_root() -> None:
    tree = SearchTree(settings(num_drafts=1, max_debug_depth=1), lower_is_better=False)
    step(tree, buggy())
    assert step(tree, buggy()).terminal  # its one fix failed at the depth limit: closed
    assert tree.free_total() == 0
    e = expand(tree)
    assert (e.parent_id, e.operator, tree.widenings) == (tree.root_id, "draft", 1)
    assert tree.capacity(tree.nodes[tree.root_id]) == 2
    check_invariants(tree)


@pytest.mark.parametrize("policy", policy_names())
def test_a_widened_tree_is_rebuilt_from_its_nodes(policy: str) -> None:
    tree = SearchTree(settings(policy=policy, **SMALL), lower_is_better=True, seed=3)
    for i in range(100):
        step(tree, working(1.0) if i % 4 else buggy(), worker=f"w{i % 2}")
    assert tree.widenings > 0
    replayed = SearchTree.from_nodes(
        tree.settings, tree.nodes.values(), lower_is_better=True, seed=3
    )
    check_invariants(replayed)
    assert replayed.counts() == tree.counts()
    assert len(replayed.nodes[replayed.root_id].children) == len(tree.nodes[tree.root_id].children)
    # and it goes on expanding
    step(replayed, working(1.0))
    check_invariants(replayed)


def test_replay_keeps_history_the_current_settings_would_not_allow() -> None:
    # A run resumed with fewer improves per node than it was started with.
    tree = SearchTree(settings(num_drafts=1, num_improves=3), lower_is_better=False)
    draft = step(tree, working(0.5))
    for _ in range(3):
        step(tree, working(0.4))
    replayed = SearchTree.from_nodes(
        settings(num_drafts=1, num_improves=1), tree.nodes.values(), lower_is_better=False
    )
    assert len(replayed.nodes[draft.id].children) == 3
    check_invariants(replayed)
