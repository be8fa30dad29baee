"""Medal thresholds by team count (each band and its edges), ties, the median and direction."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlmaster.competition.medals import (
    MedalThresholds,
    award,
    infer_lower_is_better,
    medal_positions,
    medal_thresholds,
    normalized_score,
)


@pytest.mark.parametrize(
    ("teams", "positions"),
    [
        (1, (1, 1, 1)),
        (4, (1, 1, 1)),
        (9, (1, 1, 3)),
        (50, (5, 10, 20)),
        (99, (9, 19, 39)),
        (100, (10, 20, 40)),
        (150, (10, 30, 60)),
        (249, (10, 49, 99)),
        (250, (10, 50, 100)),
        (864, (11, 50, 100)),
        (999, (11, 50, 100)),
        (1000, (12, 50, 100)),
        (1221, (12, 61, 122)),
        (5000, (20, 250, 500)),
    ],
)
def test_positions_by_team_count(teams: int, positions: tuple[int, int, int]) -> None:
    assert medal_positions(teams) == positions


def test_no_teams_is_an_error() -> None:
    with pytest.raises(ValueError):
        medal_positions(0)


def test_thresholds_are_scores_at_positions_higher_is_better() -> None:
    scores = [1.0 - i / 100 for i in range(20)]  # 20 teams: gold 2nd, silver 4th, bronze 8th
    thresholds = medal_thresholds(scores)
    assert thresholds.gold == scores[1] and thresholds.silver == scores[3]
    assert thresholds.bronze == scores[7]
    assert thresholds.median == pytest.approx(0.905)
    assert not infer_lower_is_better(scores)


def test_thresholds_for_a_lower_is_better_leaderboard() -> None:
    scores = [float(i) for i in range(1, 11)]  # 10 teams: gold 1st, silver 2nd, bronze 4th
    thresholds = medal_thresholds(scores)
    assert (thresholds.gold, thresholds.silver, thresholds.bronze) == (1.0, 2.0, 4.0)
    assert thresholds.median == 5.5
    assert infer_lower_is_better(scores)
    assert award(1.0, thresholds, True).gold_medal
    assert award(1.5, thresholds, True).silver_medal
    assert award(4.0, thresholds, True).bronze_medal
    assert not award(4.5, thresholds, True).any_medal
    assert award(5.0, thresholds, True).above_median


def test_constant_leaderboard_counts_as_higher_is_better() -> None:
    assert not infer_lower_is_better([3.0, 3.0, 3.0])


LADDER = MedalThresholds(gold=0.9, silver=0.8, bronze=0.7, median=0.5)


@pytest.mark.parametrize(
    ("score", "medal"),
    [
        (0.95, "gold"),
        (0.9, "gold"),  # a tie with the threshold wins
        (0.85, "silver"),
        (0.8, "silver"),
        (0.7, "bronze"),
        (0.6, None),
    ],
)
def test_one_medal_at_most_and_ties_win(score: float, medal: str | None) -> None:
    medals = award(score, LADDER, lower_is_better=False)
    won = [m for m in ("gold", "silver", "bronze") if getattr(medals, f"{m}_medal")]
    assert won == ([medal] if medal else [])
    assert medals.any_medal == (medal is not None)


def test_above_median_is_strict() -> None:
    assert not award(0.5, LADDER, False).above_median
    assert award(0.5000001, LADDER, False).above_median


def test_missing_or_nan_scores_win_nothing() -> None:
    for score in (None, math.nan):
        medals = award(score, LADDER, False)
        assert not medals.any_medal and not medals.above_median


def test_normalized_score_is_zero_at_median_one_at_gold_both_directions() -> None:
    assert normalized_score(0.5, LADDER) == 0.0
    assert normalized_score(0.9, LADDER) == pytest.approx(1.0)
    lower = MedalThresholds(gold=0.1, silver=0.2, bronze=0.3, median=0.5)
    assert normalized_score(0.1, lower) == pytest.approx(1.0)
    assert normalized_score(0.7, lower) == pytest.approx(-0.5)  # worse than median: negative
    assert normalized_score(None, lower) is None
    flat = MedalThresholds(gold=1.0, silver=1.0, bronze=1.0, median=1.0)
    assert normalized_score(1.0, flat) is None


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300))
def test_thresholds_follow_the_order_of_a_sorted_leaderboard(values: list[float]) -> None:
    scores = sorted(values, reverse=True)
    thresholds = medal_thresholds(scores)
    assert thresholds.gold >= thresholds.silver >= thresholds.bronze
    # The best row always earns gold; any score reaching gold also beats the bronze line.
    assert award(scores[0], thresholds, False).gold_medal
