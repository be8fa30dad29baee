"""The final choice under ``selection.method = blend``: the nodes' two scores, blended.

Used at a run's end (:meth:`mlmaster.orchestrator.state.RunState.final_node`) and by
:mod:`mlmaster.selection.compare`, so both choose alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlmaster.search.node import Node
from mlmaster.selection.blend import Estimate, NodeScores, Noise, choose
from mlmaster.selection.inputs import HoldoutInfo


@dataclass(frozen=True)
class BlendChoice:
    node_id: str | None  # None: no node has both scores
    noise: Noise
    estimates: list[Estimate]

    def line(self) -> str:
        n = self.noise
        if not n.measured:
            return (
                f"blend: {n.nodes} node(s) with both scores, too few to judge their gaps by; "
                "chosen by the holdout score alone"
            )
        suspects = sum(e.suspect for e in self.estimates)
        return (
            f"blend over {n.nodes} nodes: script weight {n.script_weight:.2f}, gap offset "
            f"{n.offset:.4g} and spread {n.gap_sd:.4g}; {suspects} suspect script score(s) "
            "judged by the holdout alone"
        )


def scored_nodes(nodes: list[Node]) -> list[Node]:
    """The nodes the blend can judge: working, with both scores."""
    return [
        n
        for n in nodes
        if n.working and n.script_metric is not None and n.holdout_metric is not None
    ]


def blend_choice(nodes: list[Node], info: HoldoutInfo, *, lower_is_better: bool) -> BlendChoice:
    """The blend's choice among the working ``nodes`` that carry both scores."""
    scores = [
        NodeScores(node_id=n.id, script=n.script_metric, holdout=n.holdout_metric)
        for n in scored_nodes(nodes)
        if n.script_metric is not None and n.holdout_metric is not None
    ]
    chosen, noise, estimates = choose(
        scores, lower_is_better=lower_is_better, rows_kept=info.rows_kept, rows_held=info.rows_held
    )
    return BlendChoice(chosen, noise, estimates)
