"""Random interleavings of select / commit / abandon across simulated workers, every policy.

After every action the tree's cached state is recomputed from scratch and compared
(``check_invariants``): child limits, reservations, virtual loss, visit and value sums along
every path, free-slot counts, terminal nodes never expanded. At the end, a tree rebuilt from
``to_dict`` must select exactly as the original, and one replayed from its committed nodes must
hold the same statistics.
"""

from __future__ import annotations

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_helpers import buggy, check_invariants, stats, working
from search_helpers import settings as search_settings

from mlmaster.search import Expansion, Outcome, SearchTree
from mlmaster.search.policies import policy_names

WORKERS = [f"w{i}" for i in range(6)]

outcomes = st.one_of(
    st.builds(working, st.floats(0.0, 1.0, allow_nan=False).map(lambda x: round(x, 2))),
    st.just(buggy()),
    st.just(Outcome(plan="p", code="c", metric=0.5, valid_submission=False)),
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("select"), st.sampled_from(WORKERS), st.floats(0.0, 1.0)),
        st.tuples(st.just("commit"), st.integers(0, 20), outcomes),
        st.tuples(st.just("abandon"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=80,
)
trees = st.builds(
    lambda policy, lower, drafts, improves, debug, stagnation, seed, widening: SearchTree(
        search_settings(
            policy=policy,
            draft_widening=widening,
            num_drafts=drafts,
            num_improves=improves,
            max_debug_depth=debug,
            debug_backup_depth=min(2, debug),
            stagnation_limit=stagnation,
        ),
        lower_is_better=lower,
        seed=seed,
    ),
    st.sampled_from(policy_names()),  # every registered policy
    st.booleans(),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 1000),
    st.sampled_from([0.0, 0.5, 1.0]),
)


def drive(tree: SearchTree, script: list[tuple]) -> list[Expansion]:  # type: ignore[type-arg]
    flight: list[Expansion] = []
    for action in script:
        if action[0] == "select":
            expansion = tree.select(action[2], action[1])
            if expansion is not None:
                assert expansion.child_id not in {e.child_id for e in flight}
                flight.append(expansion)
            else:
                # None only when nothing is free right now and some step is in flight
                assert tree.free_total() == 0 and tree.in_flight() > 0
        elif flight:
            expansion = flight.pop(action[1] % len(flight))
            if action[0] == "commit":
                node = tree.commit(expansion, action[2])
                assert node.parent_id == expansion.parent_id
            else:
                tree.abandon(expansion)
        check_invariants(tree)
    return flight


def selections(tree: SearchTree, n: int) -> list[tuple[str, str, str]]:
    picks = []
    for i in range(n):
        e = tree.select(i / n, WORKERS[i % len(WORKERS)])
        if e is None:
            picks.append(("none", "", ""))
            continue
        picks.append((e.parent_id, e.operator, e.child_id))
        tree.commit(e, working(0.1 * (i % 7)) if i % 3 else buggy())
    return picks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, actions)
def test_random_interleavings_keep_the_tree_consistent(tree: SearchTree, script: list) -> None:  # type: ignore[type-arg]
    flight = drive(tree, script)
    rebuilt = SearchTree.from_dict(tree.settings, tree.to_dict())
    assert stats(rebuilt) == stats(tree)
    assert rebuilt.in_flight() == tree.in_flight()
    check_invariants(rebuilt)
    assert selections(rebuilt, 8) == selections(tree, 8)

    for expansion in flight:  # everything settles: the virtual loss is gone
        tree.abandon(expansion)
    check_invariants(tree)
    assert tree.in_flight() == 0


@settings(max_examples=30, deadline=None)
@given(trees, actions)
def test_replay_from_committed_nodes_restores_the_statistics(
    tree: SearchTree, script: list
) -> None:  # type: ignore[type-arg]
    for expansion in drive(tree, script):
        tree.abandon(expansion)
    nodes = list(tree.nodes.values())
    replayed = SearchTree.from_nodes(
        tree.settings, reversed(nodes), lower_is_better=tree.lower_is_better, seed=tree.seed
    )
    assert stats(replayed) == stats(tree)
    assert replayed.counts() == tree.counts()
    best = tree.best_node()
    assert replayed.best_node() == best
    check_invariants(replayed)


async def test_async_workers_sharing_the_tree_on_one_event_loop_leave_it_consistent() -> None:
    """Workers awaiting between select and commit, as the orchestrator's do."""
    tree = SearchTree(search_settings(num_drafts=3), lower_is_better=True, seed=5)
    committed: list[str] = []

    async def worker(name: str, seed: int) -> None:
        for i in range(15):
            expansion = tree.select(i / 15, name)  # synchronous: no lock needed
            if expansion is None:
                await anyio.sleep(0.001)
                continue
            await anyio.sleep(0.001 * ((seed + i) % 3))  # the LLM and the script
            if (seed + i) % 5 == 0:
                tree.abandon(expansion)
            else:
                outcome = working((seed * 7 + i) % 10 / 10) if (seed + i) % 3 else buggy()
                committed.append(tree.commit(expansion, outcome).id)
            check_invariants(tree)

    async with anyio.create_task_group() as tg:
        for n in range(6):
            tg.start_soon(worker, f"w{n}", n)
    check_invariants(tree)
    assert tree.in_flight() == 0 and len(set(committed)) == len(committed) > 20
    assert tree.counts().done == len(committed)
