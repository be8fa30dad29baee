"""The blend's final choice over a run's nodes: which nodes it judges, and what it says."""

from __future__ import annotations

from mlmaster.search.node import Node
from mlmaster.selection.final import blend_choice, scored_nodes
from mlmaster.selection.inputs import HoldoutInfo

INFO = HoldoutInfo(
    train_file="train.csv", rows_kept=900, rows_held=100, how="random", fraction=0.1, seed=0
)


def node(node_id: str, script: float | None, holdout: float | None, buggy: bool = False) -> Node:
    return Node(
        id=node_id,
        operator="draft",
        metric=None if buggy else holdout,
        script_metric=script,
        holdout_metric=holdout,
        buggy=buggy,
        valid_submission=not buggy,
    )


HONEST = [node(f"n{i}", 0.80 + i / 100, 0.75 + (i % 3) / 100) for i in range(6)]


def test_only_working_nodes_with_both_scores_are_judged() -> None:
    others = [node("buggy", 0.99, 0.99, buggy=True), node("no-script", None, 0.99)]
    assert [n.id for n in scored_nodes([*HONEST, *others])] == [n.id for n in HONEST]
    choice = blend_choice([*HONEST, *others], INFO, lower_is_better=False)
    assert choice.node_id == "n5"  # the best script score among honest ones
    assert choice.noise.nodes == len(HONEST)
    assert "blend over 6 nodes: script weight 0.90" in choice.line()
    assert "0 suspect" in choice.line()


def test_a_leaking_node_is_named_suspect_and_not_chosen() -> None:
    leaky = node("leak", 0.999, 0.70)
    choice = blend_choice([*HONEST, leaky], INFO, lower_is_better=False)
    assert choice.node_id == "n5"
    assert [e.node_id for e in choice.estimates if e.suspect] == ["leak"]
    assert "1 suspect script score(s)" in choice.line()


def test_few_nodes_are_chosen_by_the_holdout_and_say_so() -> None:
    few = HONEST[:3]
    choice = blend_choice(few, INFO, lower_is_better=False)
    assert choice.node_id == max(few, key=lambda n: n.holdout_metric or 0).id
    assert "too few" in choice.line()
    assert blend_choice([], INFO, lower_is_better=True).node_id is None
