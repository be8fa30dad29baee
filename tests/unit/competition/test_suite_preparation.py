"""Splitting, fresh ids and baselines of the suite, and the frozen-leaderboard construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlmaster.competition.medals import medal_thresholds
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.competition.suite.preparation import SplitPlan, baseline_value, prepare_tables
from mlmaster.competition.suite.references import TEAMS, TIER_SHARE, leaderboard


def spec(target: str = "y") -> CompetitionSpec:
    return CompetitionSpec(
        id="toy",
        name="Toy",
        metric="roc_auc",
        lower_is_better=False,
        id_column="id",
        target_columns=[target],
        task_type="binary",
    )


def table(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "x": np.arange(rows, dtype=float),  # the source order, which must not leak via ids
            "group": np.repeat(np.arange(rows // 10), 10),
            "y": (rng.uniform(size=rows) < 0.3).astype(int),
        }
    )


def test_ids_are_a_shuffled_permutation_and_rows_ordered_by_id() -> None:
    tables = prepare_tables(table(), spec(), SplitPlan("random", 0.25), "half")
    ids = pd.concat([tables.train["id"], tables.test["id"]])
    assert sorted(ids) == list(range(1, 201))
    assert tables.train["id"].is_monotonic_increasing and tables.test["id"].is_monotonic_increasing
    # Fresh ids carry no trace of the source row order.
    merged = pd.concat([tables.train[["id", "x"]], tables.test[["id", "x"]]])
    assert abs(merged["id"].corr(merged["x"], method="spearman")) < 0.2
    assert len(tables.test) == 50 and list(tables.test.columns) == ["id", "x", "group"]
    assert list(tables.answers["id"]) == list(tables.test["id"])


def test_stratified_split_keeps_the_class_ratio() -> None:
    source = table(1000)
    tables = prepare_tables(source, spec(), SplitPlan("stratified", 0.3), "prior")
    assert tables.answers["y"].mean() == pytest.approx(source["y"].mean(), abs=0.01)
    assert (tables.sample_submission["y"] == round(tables.train["y"].mean(), 6)).all()


def test_grouped_split_keeps_every_group_on_one_side_and_can_hide_it() -> None:
    plan = SplitPlan("grouped", 0.2, group_column="group")
    tables = prepare_tables(table(), spec(), plan, "zero")
    assert not set(tables.train["group"]) & set(tables.test["group"])
    hidden = prepare_tables(
        table(),
        spec(),
        SplitPlan("grouped", 0.2, group_column="group", drop_group_column=True),
        "zero",
    )
    assert "group" not in hidden.train.columns and "group" not in hidden.test.columns


def test_same_input_same_tables_and_subsampling_is_seeded() -> None:
    plan = SplitPlan("random", 0.2, max_rows=100)
    first = prepare_tables(table(), spec(), plan, "half")
    second = prepare_tables(table(), spec(), plan, "half")
    assert len(first.train) + len(first.test) == 100
    pd.testing.assert_frame_equal(first.train, second.train)
    pd.testing.assert_frame_equal(first.answers, second.answers)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("prior", 0.4), ("mean", 0.4), ("median", 0.0), ("majority", 0), ("half", 0.5), ("zero", 0)],
)
def test_baselines(kind: str, expected: float) -> None:
    assert baseline_value(pd.Series([1, 0, 0, 1, 0]), kind) == expected  # type: ignore[arg-type]


def test_majority_ties_go_to_the_smallest_label() -> None:
    assert baseline_value(pd.Series([3, 2, 3, 2, 5]), "majority") == 2


def runs(scores: dict[str, list[float]]) -> list[dict[str, object]]:
    return [
        {"recipe": f"{tier}-{i}", "tier": tier, "seed": 0, "score": s}
        for tier, values in scores.items()
        for i, s in enumerate(values)
    ]


@pytest.mark.parametrize("metric", ["rmse", "roc_auc"])
def test_leaderboard_population(metric: str) -> None:
    lower = metric == "rmse"
    ladder = [10.0, 8.0, 6.0, 5.0, 4.5] if lower else [0.5, 0.6, 0.7, 0.8, 0.85]
    references = runs({t: [s] for t, s in zip(TIER_SHARE, ladder, strict=True)})
    board = leaderboard(references, metric)
    assert len(board) == TEAMS
    scores = board["score"]
    assert scores.is_monotonic_increasing if lower else scores.is_monotonic_decreasing
    # Every reference appears as itself; no synthetic team beats the best reference.
    real = board[board["teamName"].str.startswith("reference/")]
    assert sorted(real["score"]) == sorted(ladder)
    assert scores.iloc[0] == ladder[-1]
    # Tier shares: the top 5 % of rows stay between the strong and top references.
    top_rows = scores.iloc[: round(TEAMS * TIER_SHARE["top"])]
    assert all(min(ladder[3], ladder[4]) <= s <= max(ladder[3], ladder[4]) for s in top_rows)
    thresholds = medal_thresholds(scores.tolist())
    better = (lambda a, b: a < b) if lower else (lambda a, b: a > b)
    assert better(thresholds.gold, thresholds.bronze) and better(thresholds.bronze, ladder[0])
    assert better(thresholds.median, ladder[0])
    # Deterministic: the same runs give the same board.
    pd.testing.assert_frame_equal(board, leaderboard(references, metric))


def test_synthetic_scores_stay_inside_the_metric_range() -> None:
    references = runs(
        {"naive": [0.0], "beginner": [0.9], "intermediate": [0.95], "strong": [0.99], "top": [1.0]}
    )
    board = leaderboard(references, "accuracy")
    assert board["score"].between(0.0, 1.0).all()
