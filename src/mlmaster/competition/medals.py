"""Medal thresholds from a leaderboard, by Kaggle's team-count rules as MLE-bench applies them.

Pure functions. A leaderboard is its scores in rank order, best first (as Kaggle lists them);
thresholds are the scores at fixed positions, which depend on how many teams there are:

==========  ===================  =================  =================
teams N     gold                 silver             bronze
==========  ===================  =================  =================
1-99        top 10 %             top 20 %           top 40 %
100-249     10th                 top 20 %           top 40 %
250-999     10th + 0.2 % of N    50th               100th
>= 1000     10th + 0.2 % of N    top 5 %            top 10 %
==========  ===================  =================  =================

A score that ties a threshold wins that medal; "above median" is strict.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class MedalThresholds(BaseModel):
    """The scores a submission must reach for each medal, and the leaderboard's median."""

    model_config = ConfigDict(frozen=True)

    gold: float
    silver: float
    bronze: float
    median: float


class Medals(BaseModel):
    """What one score earns against a set of thresholds."""

    model_config = ConfigDict(frozen=True)

    gold_medal: bool = False
    silver_medal: bool = False
    bronze_medal: bool = False
    above_median: bool = False

    @property
    def any_medal(self) -> bool:
        return self.gold_medal or self.silver_medal or self.bronze_medal


def medal_positions(teams: int) -> tuple[int, int, int]:
    """1-based leaderboard positions of the gold, silver and bronze thresholds for ``teams``."""
    if teams < 1:
        raise ValueError("a leaderboard needs at least one team")
    if teams < 100:
        return max(1, int(0.1 * teams)), max(1, int(0.2 * teams)), max(1, int(0.4 * teams))
    if teams < 250:
        return 10, max(1, int(0.2 * teams)), max(1, int(0.4 * teams))
    if teams < 1000:
        return 10 + int(0.002 * teams), 50, 100
    return 10 + int(0.002 * teams), max(1, int(0.05 * teams)), max(1, int(0.1 * teams))


def medal_thresholds(scores: Sequence[float]) -> MedalThresholds:
    """Thresholds of a best-first leaderboard: the scores at the medal positions, and the median."""
    gold, silver, bronze = medal_positions(len(scores))
    return MedalThresholds(
        gold=scores[gold - 1],
        silver=scores[silver - 1],
        bronze=scores[bronze - 1],
        median=statistics.median(scores),
    )


def infer_lower_is_better(scores: Sequence[float]) -> bool:
    """MLE-bench's rule: lower is better when the first (best) row is below the last."""
    return scores[0] < scores[-1]


def award(score: float | None, thresholds: MedalThresholds, lower_is_better: bool) -> Medals:
    """The medals ``score`` earns; none for a missing or NaN score (every comparison fails)."""
    if score is None or math.isnan(score):
        return Medals()

    def reaches(threshold: float) -> bool:
        return score <= threshold if lower_is_better else score >= threshold

    gold = reaches(thresholds.gold)
    silver = not gold and reaches(thresholds.silver)
    bronze = not gold and not silver and reaches(thresholds.bronze)
    above = score < thresholds.median if lower_is_better else score > thresholds.median
    return Medals(gold_medal=gold, silver_medal=silver, bronze_medal=bronze, above_median=above)


def normalized_score(score: float | None, thresholds: MedalThresholds) -> float | None:
    """(score - median) / (gold - median): 0 at the median, 1 at gold, higher is better.

    The ratio needs no sign flip for lower-is-better metrics: there both differences change
    sign together. ``None`` where it is undefined (no score, or gold equal to the median).
    """
    if score is None or math.isnan(score):
        return None
    span = thresholds.gold - thresholds.median
    if span == 0:
        return None
    return (score - thresholds.median) / span
