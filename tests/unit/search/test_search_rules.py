"""Each operator, limit and reward rule pinned on small hand-built trees."""

from __future__ import annotations

import math

import pytest
from search_helpers import buggy, check_invariants, expand, settings, step, working

from mlmaster.execution.result import CapturedOutput, ExecutionResult, ScriptException
from mlmaster.search import ExecutionSummary, Node, Outcome, SearchTree, make_policy
from mlmaster.search.policies import MLMasterPolicy, exploration_constant, uct_score
from mlmaster.search.policies.ml_master import FLIGHT


def tree_of(lower_is_better: bool = False, **overrides: object) -> SearchTree:
    return SearchTree(settings(**overrides), lower_is_better=lower_is_better, seed=7)


def test_root_gets_exactly_num_drafts_drafts_then_nothing_while_they_run() -> None:
    tree = tree_of(num_drafts=3)
    expansions = [expand(tree, f"w{i}") for i in range(3)]
    assert [e.operator for e in expansions] == ["draft"] * 3
    assert tree.select(0.0, "w3") is None  # all slots reserved: wait, never deadlock
    tree.abandon(expansions[0])
    again = expand(tree, "w3")
    assert again.operator == "draft" and again.parent_id == tree.root_id
    check_invariants(tree)


def test_abandon_returns_the_slot_and_the_virtual_loss() -> None:
    tree = tree_of(num_drafts=1)
    policy = tree.policy
    assert isinstance(policy, MLMasterPolicy)
    e = expand(tree)
    assert policy.stats[tree.root_id][FLIGHT] == 1 and tree.free(tree.root_id) == 0
    tree.abandon(e)
    tree.abandon(e)  # a second abandon is harmless
    assert tree.in_flight() == 0 and policy.stats[tree.root_id][FLIGHT] == 0
    assert tree.free(tree.root_id) == 1


def test_commit_of_a_settled_expansion_is_refused() -> None:
    tree = tree_of()
    e = expand(tree)
    tree.commit(e, working(0.5))
    with pytest.raises(ValueError, match="not in flight"):
        tree.commit(e, working(0.5))
    tree.abandon(e)  # no-op once committed
    assert tree.counts().done == 1


def test_working_node_gets_num_improves_improve_children() -> None:
    tree = tree_of(num_drafts=1, num_improves=2)
    draft = step(tree, working(0.5))
    ops = [expand(tree, f"w{i}") for i in range(2)]
    assert {(e.parent_id, e.operator) for e in ops} == {(draft.id, "improve")}
    assert tree.select(0.0, "w9") is None


def test_buggy_node_is_debugged_as_a_chain_one_fix_at_a_time() -> None:
    tree = tree_of(num_drafts=1, debug_backup_depth=10)
    draft = step(tree, buggy())
    first = expand(tree, "w0")
    assert (first.parent_id, first.operator) == (draft.id, "debug")
    assert tree.select(0.0, "w1") is None  # one debug child at a time
    fix = tree.commit(first, buggy())
    assert fix.debug_depth == 1
    second = expand(tree, "w1")
    assert (second.parent_id, second.operator) == (fix.id, "debug")


def test_debug_chain_is_terminal_at_max_debug_depth() -> None:
    tree = tree_of(num_drafts=1, max_debug_depth=3)
    nodes = [step(tree, buggy(), worker=f"w{i}") for i in range(4)]
    assert [n.debug_depth for n in nodes] == [0, 1, 2, 3]
    assert nodes[-1].terminal and not any(n.terminal for n in nodes[:-1])
    # the only open end is terminal: rather than end the search, the root gets new drafts
    widened = expand(tree, "w0")
    assert (widened.parent_id, widened.operator) == (tree.root_id, "draft")
    assert tree.widenings == 1
    check_invariants(tree)
    check_invariants(tree)


def test_invalid_submission_is_routed_to_debug_and_penalised() -> None:
    tree = tree_of(num_drafts=1, buggy_reward=-1.0)
    node = step(tree, Outcome(plan="p", code="c", metric=0.9, valid_submission=False))
    assert node.needs_debug and node.reward == -1.0
    assert expand(tree).operator == "debug"


def test_debug_success_starts_a_new_improvable_chain() -> None:
    tree = tree_of(num_drafts=1)
    step(tree, buggy())
    fixed = step(tree, working(0.7))
    assert fixed.operator == "debug" and fixed.working
    assert fixed.debug_depth == 1 and fixed.local_best == 0.7
    assert expand(tree).operator == "improve"


def test_stagnating_chain_becomes_terminal_and_improvement_resets_it() -> None:
    tree = tree_of(num_drafts=1, num_improves=1, stagnation_limit=2, improvement_threshold=0.01)
    draft = step(tree, working(1.0))
    a = step(tree, working(1.005))  # +0.5 %: below the 1 % relative threshold
    assert a.stagnation == 1 and a.local_best == 1.0 and not a.terminal
    b = step(tree, working(1.2))  # a real gain resets the count
    assert b.stagnation == 0 and b.local_best == 1.2
    c = step(tree, working(1.1))
    d = step(tree, working(1.19))
    assert (c.stagnation, d.stagnation) == (1, 2)
    assert d.terminal and d.terminal_reason == "improvement stagnated"
    assert draft.local_best == 1.0
    assert tree.free_total() == 0  # the chain is closed: only widening opens new slots


def test_stagnation_follows_the_metric_direction() -> None:
    tree = tree_of(lower_is_better=True, num_drafts=1, num_improves=1)
    step(tree, working(10.0))
    better = step(tree, working(9.0))
    worse = step(tree, working(9.5))
    assert better.stagnation == 0 and worse.stagnation == 1


def test_rewards_rank_working_nodes_by_metric_with_a_best_bonus() -> None:
    tree = tree_of(num_drafts=4, best_bonus=0.5, buggy_reward=-1.0)
    first = step(tree, working(0.5))
    worse = step(tree, working(0.4))
    best = step(tree, working(0.9))
    bug = step(tree, buggy(), worker="w1")
    assert first.reward == 1.5  # alone: rank 1, and a new best
    assert worse.reward == 0.0  # below the only earlier one
    assert best.reward == 1.5
    assert bug.reward == -1.0
    assert tree.best_node() == best
    assert [n.id for n in tree.valid_nodes()] == [best.id, first.id, worse.id]


def test_rewards_follow_lower_is_better() -> None:
    tree = tree_of(lower_is_better=True, num_drafts=3)
    step(tree, working(10.0))
    low = step(tree, working(5.0))
    mid = step(tree, working(7.0))
    assert low.reward > 1.0 and 0.0 < mid.reward < 1.0
    assert tree.best_node() == low


def test_a_non_finite_metric_makes_the_node_buggy() -> None:
    tree = tree_of()
    node = step(tree, working(math.nan))
    assert node.buggy and node.metric is None and "finite" in (node.bug_reason or "")


def test_virtual_loss_spreads_concurrent_workers() -> None:
    tree = tree_of(num_drafts=2, num_improves=3, virtual_loss=3.0, uct_decay=[(0.0, 0.1)])
    good = step(tree, working(0.9))
    other = step(tree, working(0.5), worker="w1")
    # the root is full; UCT prefers the better draft first
    assert expand(tree, "w2").parent_id == good.id
    # with one step in flight below it, the virtual loss sends the next worker elsewhere
    assert expand(tree, "w3").parent_id == other.id
    check_invariants(tree)


def test_worker_keeps_debugging_its_fresh_bug_until_backup_depth() -> None:
    tree = tree_of(num_drafts=3, debug_backup_depth=2)
    bug = step(tree, buggy(), worker="w0")
    e = expand(tree, "w0")  # the root still has draft slots, but w0 stays on its bug
    assert (e.parent_id, e.operator) == (bug.id, "debug")
    again = tree.commit(e, buggy())
    assert again.debug_depth == 1
    e2 = expand(tree, "w0")
    assert e2.parent_id == again.id
    deep = tree.commit(e2, buggy())
    assert deep.debug_depth == 2
    assert expand(tree, "w0").operator == "draft"  # at backup depth: back to the root


def test_another_worker_is_not_pulled_into_a_rollout() -> None:
    tree = tree_of(num_drafts=3)
    step(tree, buggy(), worker="w0")
    assert expand(tree, "w1").operator == "draft"


def test_exploration_constant_decays_with_time_to_its_floor() -> None:
    s = settings(
        uct_c_start=1.414, uct_c_floor=0.5, uct_decay=[(0.0, 1.414), (0.5, 1.0), (0.8, 0.5)]
    )
    assert exploration_constant(s, 0.0) == pytest.approx(1.414)
    assert exploration_constant(s, 0.25) == pytest.approx(1.207)
    assert exploration_constant(s, 0.5) == pytest.approx(1.0)
    assert exploration_constant(s, 0.95) == pytest.approx(0.5)
    floor = settings(uct_c_floor=0.8, uct_decay=[(0.0, 1.414), (1.0, 0.0)])
    assert exploration_constant(floor, 0.9) == pytest.approx(0.8)
    start = settings(uct_c_start=2.0, uct_decay=[(0.5, 1.0)])
    assert exploration_constant(start, 0.0) == pytest.approx(2.0)
    assert exploration_constant(start, 0.25) == pytest.approx(1.5)


def test_uct_tries_unvisited_first_and_counts_virtual_loss() -> None:
    assert uct_score(0, 0.0, 0, math.log(5), 1.0, 1.0) == math.inf
    plain = uct_score(2, 1.0, 0, math.log(4), 1.0, 1.0)
    assert plain == pytest.approx(0.5 + math.sqrt(math.log(4) / 2))
    assert uct_score(2, 1.0, 1, math.log(4), 1.0, 1.0) < plain


def test_greedy_drafts_first_then_improves_the_best() -> None:
    tree = tree_of(policy="greedy", num_drafts=2, greedy_debug_prob=0.0)
    step(tree, working(0.3))
    best = step(tree, working(0.8))
    e = expand(tree)
    assert (e.parent_id, e.operator) == (best.id, "improve")


def test_greedy_debugs_a_buggy_leaf_when_the_coin_says_so() -> None:
    tree = tree_of(policy="greedy", num_drafts=2, greedy_debug_prob=1.0)
    step(tree, working(0.8))
    bug = step(tree, buggy())
    e = expand(tree)
    assert (e.parent_id, e.operator) == (bug.id, "debug")


def test_random_policy_is_seeded_and_only_picks_free_slots() -> None:
    def run() -> list[str]:
        tree = tree_of(policy="random", num_drafts=3)
        picks = []
        for i in range(12):
            e = tree.select(0.0, "w0")
            if e is None:
                break
            picks.append(e.parent_id)
            tree.commit(e, working(float(i)) if i % 3 else buggy())
            check_invariants(tree)
        return picks

    assert run() == run()


def test_unknown_policy_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown search policy 'best-first'; choose one of"):
        make_policy("best-first")
    with pytest.raises(ValueError, match="unknown search policy"):
        settings(policy="best-first")


def test_from_nodes_refuses_a_child_before_its_parent() -> None:
    orphan = Node(id="a", parent_id="missing", operator="improve", step=1)
    with pytest.raises(ValueError, match="damaged"):
        SearchTree.from_nodes(settings(), [orphan], lower_is_better=False)


def test_execution_summary_from_a_result() -> None:
    result = ExecutionResult(
        exit_code=1,
        runtime=2.5,
        stdout=CapturedOutput(head="x" * 5000),
        stderr=CapturedOutput(head="Traceback...\nKeyError: 'y'"),
        exception=ScriptException(type="KeyError", message="'y'"),
    )
    summary = ExecutionSummary.from_result(result, tail_chars=100)
    assert summary.exit_code == 1 and summary.runtime == 2.5
    assert summary.exception_type == "KeyError" and summary.exception_message == "'y'"
    assert len(summary.output_tail) == 100 and summary.output_tail.endswith("KeyError: 'y'")


def test_ml_master_widens_the_root_with_its_visits() -> None:
    tree = tree_of(num_drafts=2, draft_widening=0.5)
    for i in range(16):
        step(tree, working(i / 16), worker=f"w{i % 3}")
    expand(tree)  # the root has 16 visits: sqrt(16) = 4 drafts allowed
    assert tree.capacity(tree.nodes[tree.root_id]) == 4
    assert tree.widenings == 0  # not the widening of an exhausted tree
    check_invariants(tree)


def test_draft_widening_is_ml_masters_alone() -> None:
    tree = tree_of(policy="greedy", num_drafts=2, draft_widening=0.5, greedy_debug_prob=0.0)
    for i in range(16):
        step(tree, working(i / 16))
    assert tree.capacity(tree.nodes[tree.root_id]) == 2


def test_draft_widening_stops_at_max_drafts() -> None:
    tree = tree_of(num_drafts=1, draft_widening=1.0, max_drafts=3)
    for i in range(12):
        step(tree, working(i / 12), worker=f"w{i % 3}")
    assert tree.capacity(tree.nodes[tree.root_id]) == 3
