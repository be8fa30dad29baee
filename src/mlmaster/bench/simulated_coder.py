"""A simulated coder for the benchmark only: node outcomes drawn from a stated, seeded model.

It never runs in ``mlmaster run``. It stands in for the LLM and the scripts so that thousands
of nodes a second go through the real tree and policies, and a policy's search quality can be
measured at the node counts of a 12-hour run, over enough seeds for a confidence interval.

The model (every number is a field of :class:`Landscape`, so the assumptions are printed next
to the results). Scores are *normalised test scores*: 0 at a competition's median, 1 at gold.

* **Competition**: ``approaches`` ways to solve it, each with a ceiling (the best it can reach)
  drawn once per competition: ``c ~ N(ceiling_mean, ceiling_sd)``. Gold is the best ceiling:
  scores are reported as a share of it (1 = the best reachable by any approach).
* **Draft**: one of the approaches, uniformly, with a first score ``t = c - gap``,
  ``gap ~ U(draft_gap_low, draft_gap_high)``.
* **Improve** of a node at ``t`` with ceiling ``c``: ``t' = min(c, t + (c - t) *
  U(0, improve_share) + N(0, improve_noise))``: diminishing returns near the ceiling, never
  past it, and noise that can regress.
* **Bugs**: a draft is buggy with ``draft_bug_rate``, an improve with ``improve_bug_rate``. A
  buggy node keeps the score it would have had; a debug fixes it with ``debug_fix_rate``
  (then it scores that), else it is buggy again.
* **Validation**: the script's own score is ``v = t + optimism + N(0, validation_noise)``,
  ``optimism ~ Exp(mean optimism_mean)`` per node (own splits, leaks, overfitting). A holdout
  scored the same way for every node sees ``h = t + N(0, holdout_noise)``.

The tree sees only ``v`` (the metric the script printed), as in a run.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel

from mlmaster.search import Expansion, Node, Outcome, SearchTree
from mlmaster.selection.blend import NodeScores, choose
from mlmaster.settings.model import SearchSettings


class Landscape(BaseModel):
    """The stated model of what a coder produces (see the module docstring)."""

    approaches: int = 20
    ceiling_mean: float = 0.5
    ceiling_sd: float = 0.35
    draft_gap_low: float = 0.3
    draft_gap_high: float = 0.9
    improve_share: float = 0.5
    improve_noise: float = 0.05
    draft_bug_rate: float = 0.35
    improve_bug_rate: float = 0.25
    debug_fix_rate: float = 0.6
    validation_noise: float = 0.06
    optimism_mean: float = 0.04
    holdout_noise: float = 0.015


@dataclass
class Truth:
    """What the model knows about a node and the tree never sees."""

    score: float  # true normalised test score (what the node would score when it works)
    ceiling: float  # the best its approach can reach
    holdout: float  # its score on a holdout every node is scored on alike


@dataclass
class SimulatedRun:
    """One run's tree and the truth behind each of its nodes."""

    tree: SearchTree
    gold: float  # the best ceiling of the competition's approaches
    truth: dict[str, Truth] = field(default_factory=dict)

    def normalised(self, node: Node | None) -> float:
        """A node's true score as a share of gold (0 without a node: nothing submitted)."""
        return 0.0 if node is None else self.truth[node.id].score / self.gold

    def working(self) -> list[Node]:
        return self.tree.valid_nodes()

    def selected_by_script(self) -> Node | None:
        """The node a run submits today: the best validation score its script printed."""
        return self.tree.best_node()

    def selected_by_holdout(self) -> Node | None:
        nodes = self.working()
        return max(nodes, key=lambda n: self.truth[n.id].holdout) if nodes else None

    def selected_by_blend(self, holdout_fraction: float = 0.1) -> Node | None:
        """The node ``selection.method = blend`` submits, its rows weighted as a holdout of
        ``holdout_fraction`` would weigh them (the model has no rows of its own)."""
        nodes = self.working()
        scores = [
            NodeScores(n.id, script=n.metric, holdout=self.truth[n.id].holdout)
            for n in nodes
            if n.metric is not None
        ]
        held = round(1000 * holdout_fraction)
        chosen, _, _ = choose(scores, lower_is_better=False, rows_kept=1000 - held, rows_held=held)
        return self.tree.nodes[chosen] if chosen is not None else None

    def best_in_tree(self) -> float | None:
        nodes = self.working()
        return max(self.truth[n.id].score for n in nodes) if nodes else None

    def best_drafted(self) -> float | None:
        """The highest ceiling among the approaches the run drafted."""
        drafts = [self.truth[c].ceiling for c in self.tree.nodes[self.tree.root_id].children]
        return max(drafts) if drafts else None


class SimulatedCoder:
    """Draws each expansion's outcome from the landscape, with its own seeded RNG."""

    def __init__(self, landscape: Landscape, competition: int, seed: int) -> None:
        self.landscape = landscape
        drawn = random.Random(f"competition:{competition}")
        self.ceilings = [
            drawn.gauss(landscape.ceiling_mean, landscape.ceiling_sd)
            for _ in range(landscape.approaches)
        ]
        self.gold = max(self.ceilings)
        self.rng = random.Random(f"coder:{competition}:{seed}")

    def outcome(self, run: SimulatedRun, expansion: Expansion) -> tuple[Outcome, Truth]:
        model, rng = self.landscape, self.rng
        parent = run.truth.get(expansion.parent_id)
        if expansion.operator == "draft" or parent is None:
            ceiling = rng.choice(self.ceilings)
            score = ceiling - rng.uniform(model.draft_gap_low, model.draft_gap_high)
            buggy = rng.random() < model.draft_bug_rate
        elif expansion.operator == "improve":
            ceiling = parent.ceiling
            gain = (ceiling - parent.score) * rng.uniform(0.0, model.improve_share)
            score = min(parent.score + gain + rng.gauss(0.0, model.improve_noise), ceiling)
            buggy = rng.random() < model.improve_bug_rate
        else:  # debug: the fix scores what the buggy script would have
            ceiling, score = parent.ceiling, parent.score
            buggy = rng.random() >= model.debug_fix_rate
        truth = Truth(
            score=score,
            ceiling=ceiling,
            holdout=score + rng.gauss(0.0, model.holdout_noise),
        )
        if buggy:
            return Outcome(plan="simulated", buggy=True, bug_reason="simulated bug"), truth
        validation = (
            score
            + rng.expovariate(1.0 / model.optimism_mean)
            + rng.gauss(0, model.validation_noise)
        )
        return Outcome(plan="simulated", metric=validation, valid_submission=True), truth


def simulate_run(
    settings: SearchSettings,
    landscape: Landscape,
    *,
    nodes: int,
    competition: int,
    seed: int,
    workers: int = 4,
) -> SimulatedRun:
    """Grow one tree to ``nodes`` committed nodes with ``workers`` expansions in flight
    (committed oldest first); time is the share of nodes done, as the budget would be."""
    coder = SimulatedCoder(landscape, competition, seed)
    run = SimulatedRun(tree=SearchTree(settings, lower_is_better=False, seed=seed), gold=coder.gold)
    tree = run.tree
    flight: deque[Expansion] = deque()
    selects = 0
    while tree.counts().done < nodes:
        while len(flight) < workers:
            expansion = tree.select(tree.counts().done / nodes, f"w{selects % workers}")
            selects += 1
            if expansion is None:
                break
            flight.append(expansion)
        expansion = flight.popleft()
        outcome, truth = coder.outcome(run, expansion)
        run.truth[expansion.child_id] = truth
        tree.commit(expansion, outcome)
    for expansion in flight:
        tree.abandon(expansion)
    return run
