"""The memory store: insights from nodes, idempotent merging, and each operator's context."""

from __future__ import annotations

import anyio
import anyio.lowlevel

from mlmaster.memory import MemoryStore, insight_from_node
from mlmaster.search import ExecutionSummary, Node, Outcome, SearchTree
from mlmaster.settings.model import MemorySettings, SearchSettings


def working(metric: float, plan: str) -> Outcome:
    return Outcome(plan=plan, code=f"# {plan}", metric=metric, valid_submission=True)


def buggy(plan: str, reason: str) -> Outcome:
    return Outcome(plan=plan, code=f"# {plan}", buggy=True, bug_reason=reason)


class Run:
    """A tree and a memory fed the way the orchestrator feeds them."""

    def __init__(self, **memory: int) -> None:
        self.tree = SearchTree(
            SearchSettings(num_drafts=3, num_improves=3, debug_backup_depth=5),
            lower_is_better=False,
            seed=3,
        )
        self.memory = MemoryStore(MemorySettings(**memory))

    def add(self, parent_id: str, outcome: Outcome, worker: str = "w0") -> Node:
        """Expand ``parent_id``: select until the policy offers it, give the others back."""
        others = []
        expansion = self.tree.select(0.0, worker)
        while expansion is not None and expansion.parent_id != parent_id:
            others.append(expansion)
            expansion = self.tree.select(0.0, worker)
        assert expansion is not None, f"{parent_id} was never offered"
        for other in others:
            self.tree.abandon(other)
        node = self.tree.commit(expansion, outcome)
        self.memory.add(insight_from_node(node))
        return node


def drafts(run: Run) -> list[Node]:
    root = run.tree.root_id
    return [
        run.add(root, working(0.6, "gradient boosting on raw features")),
        run.add(root, buggy("a neural net", "KeyError: 'target'"), worker="w1"),
        run.add(root, working(0.8, "random forest with target encoding"), worker="w2"),
    ]


def test_insight_of_a_working_and_a_buggy_node() -> None:
    run = Run()
    good, bad, _ = drafts(run)
    a, b = insight_from_node(good), insight_from_node(bad)
    assert a.result == "metric 0.6" and not a.buggy and a.metric == 0.6
    assert a.parent_id is None and a.operator == "draft" and a.step == good.step
    assert b.buggy and b.metric is None and "KeyError" in b.result and b.suggestion


def test_insight_takes_the_first_paragraph_and_the_exception() -> None:
    node = Node(
        id="n",
        parent_id="p",
        operator="debug",
        plan="Fix   the\nmerge.\n\nThen a long story.",
        buggy=True,
        execution=ExecutionSummary(exception_type="ValueError", exception_message="bad shape"),
    )
    insight = insight_from_node(node)
    assert insight.design == "Fix the merge."
    assert insight.result == "bug: ValueError: bad shape"


def test_add_is_idempotent_by_node_id() -> None:
    run = Run()
    node = drafts(run)[0]
    assert not run.memory.add(insight_from_node(node))
    assert len(run.memory) == 3


async def test_concurrent_adds_lose_none_and_duplicate_none() -> None:
    run = Run()
    nodes = drafts(run)
    store = MemoryStore(MemorySettings())

    async def worker(offset: int) -> None:
        for i in range(len(nodes)):
            store.add(insight_from_node(nodes[(i + offset) % len(nodes)]))
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        for offset in range(8):
            tg.start_soon(worker, offset)
    assert [i.node_id for i in store.insights()] == [n.id for n in nodes]


def test_draft_context_lists_the_other_drafts_in_commit_order() -> None:
    run = Run()
    nodes = drafts(run)
    context = run.memory.context(run.tree, run.tree.root_id, "draft")
    assert [(e.role, e.insight.node_id) for e in context.entries] == [
        ("sibling", n.id) for n in nodes
    ]
    assert "gradient boosting" in context.text and "KeyError" in context.text
    assert context.text.index("gradient boosting") < context.text.index("random forest")


def test_improve_context_has_the_parent_its_children_and_the_best_elsewhere() -> None:
    run = Run()
    first, _bug, best = drafts(run)
    child = run.add(best.id, working(0.85, "add interaction features"))
    # now improve the best draft again: its earlier child is a sibling attempt
    context = run.memory.context(run.tree, best.id, "improve")
    roles = [(e.role, e.insight.node_id) for e in context.entries]
    assert roles[0] == ("parent", best.id) and context.entries[0].code == best.code
    assert ("sibling", child.id) in roles
    assert ("best", first.id) in roles  # from another branch
    assert all(r != "best" or i not in (best.id, child.id) for r, i in roles)


def test_debug_context_has_the_buggy_parent_and_earlier_failed_fixes() -> None:
    run = Run()
    _, bug, best = drafts(run)
    fix = run.add(bug.id, buggy("fix the column name", "ValueError: shapes"), worker="w1")
    context = run.memory.context(run.tree, fix.id, "debug")
    roles = [(e.role, e.insight.node_id) for e in context.entries]
    assert roles[:2] == [("error", fix.id), ("ancestor", bug.id)]
    assert ("best", best.id) in roles
    assert "ValueError: shapes" in context.text and "KeyError" in context.text


def test_context_fits_the_budget_and_is_deterministic() -> None:
    run = Run(context_chars=300)
    drafts(run)
    first = run.memory.context(run.tree, run.tree.root_id, "draft")
    assert 0 < len(first.text) <= 300
    assert len(first.entries) < 3
    assert first == run.memory.context(run.tree, run.tree.root_id, "draft")


def test_context_of_an_empty_run_is_empty() -> None:
    run = Run()
    context = run.memory.context(run.tree, run.tree.root_id, "draft")
    assert context.entries == [] and context.text == ""


def test_round_trip_through_a_dict() -> None:
    run = Run()
    drafts(run)
    again = MemoryStore.from_dict(run.memory.settings, run.memory.to_dict())
    assert again.insights() == run.memory.insights()
