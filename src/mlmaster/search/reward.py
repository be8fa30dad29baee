"""The metric-aware reward a committed node backs up the tree.

Let the run's working nodes (valid submission, a metric) before this one be scored by their
metric oriented so that higher is better (``s = -metric`` when lower is better). For a new node
``v``::

    reward(v) = buggy_reward                                  if v does not work
    reward(v) = rank(v) + best_bonus * [v beats every earlier working node]   otherwise

    rank(v)   = (#earlier working nodes with s < s_v + 0.5 * #earlier with s == s_v) / n
                where n = number of earlier working nodes; rank(v) = 1 when n == 0

So a working node earns a reward in [0, 1] from where its score falls among the run's working
nodes (scale free: RMSE in thousands and AUC near 1 are treated alike), and a new global best
earns ``best_bonus`` on top. The reward is fixed at commit time, which keeps it a pure function
of the commit order: a tree replayed from its journal gets exactly the same rewards.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from sortedcontainers import SortedList


class MetricRanking:
    """The oriented scores of a set of nodes, kept sorted with their ids; among equal scores
    the earlier-added node ranks first.

    The scores are plain floats in a sorted list of lists (``sortedcontainers``): adding,
    removing and ranking cost O(log n) whatever the size, where one flat list pays a memory
    move of the whole list per insert (a tenth of a millisecond at 100k nodes). The ids sit
    beside them, by score.
    """

    def __init__(self, lower_is_better: bool) -> None:
        self.lower_is_better = lower_is_better
        self._scores = SortedList()  # ascending: worst first; one entry per node
        self._ids_at: dict[float, list[str]] = {}  # score -> ids with it, in order added
        self._score_of: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._score_of)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._score_of

    def score(self, metric: float) -> float:
        """Orient a metric so that higher is better."""
        return -metric if self.lower_is_better else metric

    def rank(self, metric: float) -> float:
        """Share of the scores so far that ``metric`` beats (ties count half); 1.0 when none."""
        scores = self._scores
        if not scores:
            return 1.0
        s = self.score(metric)
        below = scores.bisect_left(s)
        equal = len(self._ids_at.get(s, ()))
        return (below + 0.5 * equal) / len(scores)

    def beats_all(self, metric: float) -> bool:
        return not self._scores or self.score(metric) > self._scores[-1]

    def add(self, metric: float, node_id: str) -> None:
        s = self.score(metric)
        self._scores.add(s)
        self._ids_at.setdefault(s, []).append(node_id)
        self._score_of[node_id] = s

    def remove(self, node_id: str) -> None:
        s = self._score_of.pop(node_id)
        self._scores.remove(s)
        ids = self._ids_at[s]
        ids.remove(node_id)
        if not ids:
            del self._ids_at[s]

    def best_first(self) -> Iterator[str]:
        """Node ids from the best score down (equal scores: the earliest added first)."""
        previous: float | None = None
        for s in reversed(self._scores):
            if s != previous:
                previous = s
                yield from self._ids_at[s]


def node_reward(
    ranking: MetricRanking,
    metric: float | None,
    working: bool,
    *,
    buggy_reward: float,
    best_bonus: float,
) -> float:
    """The reward of a node about to be committed (before its metric joins ``ranking``)."""
    if not working or metric is None or not math.isfinite(metric):
        return buggy_reward
    bonus = best_bonus if ranking.beats_all(metric) else 0.0
    return ranking.rank(metric) + bonus


def improves(new: float, best: float, lower_is_better: bool, threshold: float) -> bool:
    """Whether ``new`` beats ``best`` by more than ``threshold``, relative to ``|best|``.

    Relative, so that one threshold fits every metric's scale (the original used an absolute
    1e-4). A best of exactly 0 falls back to an absolute gain.
    """
    gain = (best - new) if lower_is_better else (new - best)
    return gain > threshold * (abs(best) if best != 0 else 1.0)
