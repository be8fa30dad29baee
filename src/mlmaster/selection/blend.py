"""``selection.method = blend``: one estimate of each node's test score from both of its scores.

Pure: numbers in, numbers out. Every working node has two estimates of its test score, and
each is wrong in its own way:

* the **holdout** score ``h`` is measured alike for every node, on rows no script trained on,
  but on few rows (a tenth of the table), so it is noisy;
* the **script's** score ``s`` is often measured on many more rows (a k-fold over everything
  the script got), so an honest script's is the *less* noisy of the two; but a script can leak
  or overfit its own validation, and then ``s`` is better than the truth by any amount.

Scores are signed so that higher is better, and for node ``i``::

    h_i = t_i + c + e_i      c: this holdout's luck, the same for every node; e_i: its noise
    s_i = t_i + a + d_i      a: shared by the scripts (e.g. k-fold on fewer rows); d_i: noise,
                             plus the leak or overfit of a script that has one

Ranking needs only the node-specific parts. From the tree's own nodes:

* ``offset``: the median gap ``s_i - h_i`` (``a - c``), which puts ``s`` on the holdout's scale;
* ``gap_sd``: the robust spread of the gaps around it (median absolute deviation), so a
  minority of leaking scripts barely moves it.

A node whose script claims more than ``SUSPECT_Z`` gap spreads beyond the offset is *suspect*
(a leak, an overfit or lucky split): it is judged by its holdout score alone. Every other node
gets the precision-weighted mean of ``h_i`` and ``s_i - offset``, with precisions in proportion
to the rows each score is measured on: the holdout's rows, and for the script every row it
trained on (an honest k-fold, the best a script's own score can be). With a holdout of a tenth
of the rows that is 0.9 of the script's score and 0.1 of the holdout's. The weights are not
measured from the tree: splitting the holdout in halves to measure its noise was tried and
chose worse (the nodes are clusters of near-copies, and a few held rows dominate the errors;
see the README). With fewer than ``MIN_NODES`` nodes there is no spread to judge a gap by, and
the holdout score alone is the estimate.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

MIN_NODES = 5  # fewer nodes with both scores: the holdout alone (no spread to measure)
SUSPECT_Z = 2.0  # a script better than its holdout by this many gap spreads is suspect
MAD_TO_SD = 1.4826  # the median absolute deviation of a normal sample, times this, is its sd


@dataclass(frozen=True)
class NodeScores:
    """What a node's selection estimate is made from (as the metric reports them)."""

    node_id: str
    script: float  # the score the script printed
    holdout: float  # the harness's score on the holdout


@dataclass(frozen=True)
class Noise:
    """What the tree's nodes say about the gap between the scores (higher-is-better scale)."""

    nodes: int
    offset: float = 0.0  # median of script - holdout
    gap_sd: float = 0.0  # robust spread of the gaps around the offset
    script_weight: float = 0.0  # the share of the script's score in a blended estimate

    @property
    def measured(self) -> bool:
        return self.nodes >= MIN_NODES


@dataclass(frozen=True)
class Estimate:
    node_id: str
    value: float  # the estimated score, in the metric's own direction, on the holdout's scale
    suspect: bool = False  # its script claims more than its holdout supports


def robust_sd(values: list[float]) -> float:
    """The spread of ``values`` from their median absolute deviation (outliers barely count)."""
    if len(values) < 2:
        return 0.0
    middle = statistics.median(values)
    return MAD_TO_SD * statistics.median(abs(v - middle) for v in values)


def script_weight(rows_kept: int, rows_held: int) -> float:
    """The script's share: its rows (a k-fold over all it trained on) over both scores' rows."""
    if rows_kept <= 0:
        return 0.0
    return rows_kept / (rows_kept + max(rows_held, 0))


def measure_noise(
    nodes: list[NodeScores], *, lower_is_better: bool, rows_kept: int, rows_held: int
) -> Noise:
    """The offset and spread of the gaps over ``nodes``, and the script's weight."""
    if len(nodes) < MIN_NODES:
        return Noise(nodes=len(nodes))
    sign = -1.0 if lower_is_better else 1.0
    gaps = [sign * (n.script - n.holdout) for n in nodes]
    return Noise(
        nodes=len(nodes),
        offset=statistics.median(gaps),
        gap_sd=robust_sd(gaps),
        script_weight=script_weight(rows_kept, rows_held),
    )


def estimate(nodes: list[NodeScores], noise: Noise, *, lower_is_better: bool) -> list[Estimate]:
    """Each node's blended estimate (its holdout score alone while the gaps are unmeasured)."""
    if not noise.measured:
        return [Estimate(n.node_id, n.holdout) for n in nodes]
    sign = -1.0 if lower_is_better else 1.0
    out = []
    for n in nodes:
        gap = sign * (n.script - n.holdout) - noise.offset
        if gap > SUSPECT_Z * noise.gap_sd:
            out.append(Estimate(n.node_id, n.holdout, suspect=True))
            continue
        on_holdout_scale = n.script - sign * noise.offset
        w = noise.script_weight
        out.append(Estimate(n.node_id, w * on_holdout_scale + (1 - w) * n.holdout))
    return out


def choose(
    nodes: list[NodeScores], *, lower_is_better: bool, rows_kept: int, rows_held: int
) -> tuple[str | None, Noise, list[Estimate]]:
    """The node to submit (the best estimate; the first of equals), the noise and every estimate."""
    noise = measure_noise(
        nodes, lower_is_better=lower_is_better, rows_kept=rows_kept, rows_held=rows_held
    )
    estimates = estimate(nodes, noise, lower_is_better=lower_is_better)
    if not estimates:
        return None, noise, estimates
    sign = 1.0 if lower_is_better else -1.0
    best = min(estimates, key=lambda e: sign * e.value)  # min keeps the first of equals
    return best.node_id, noise, estimates
