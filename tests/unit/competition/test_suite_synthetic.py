"""Synthetic rows in a source table's likeness: same shape, same marginals, no copied row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlmaster.competition.suite.synthetic import copula_sample, synthesize


def source(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=rows)
    return pd.DataFrame(
        {
            "width": np.round(10 + 2 * x + rng.normal(size=rows), 3),  # 3 decimals, continuous
            "height": np.round(20 + 3 * x + rng.normal(size=rows), 1),  # correlated with width
            "grade": rng.integers(1, 6, size=rows),  # discrete, integer dtype
            "blank": np.zeros(rows, dtype=int),  # constant
            "label": (x > 0.3).astype(int),
        }
    )


def test_rows_are_new_but_columns_keep_values_precision_and_correlation() -> None:
    table = source()
    drawn = copula_sample(table.drop(columns="label"), 500, np.random.default_rng(0))
    assert list(drawn.columns) == ["width", "height", "grade", "blank"] and len(drawn) == 500
    assert drawn.dtypes.to_dict() == table.drop(columns="label").dtypes.to_dict()
    # Discrete columns take only values they had; continuous ones stay in range, same decimals.
    assert set(drawn["grade"]) <= set(table["grade"]) and set(drawn["blank"]) == {0}
    assert drawn["width"].between(table["width"].min(), table["width"].max()).all()
    assert np.allclose(drawn["height"], drawn["height"].round(1))
    assert drawn["width"].round(3).equals(drawn["width"])
    # Rank correlation survives (strong in the source), and no row is a source row.
    source_corr = table["width"].corr(table["height"], method="spearman")
    drawn_corr = drawn["width"].corr(drawn["height"], method="spearman")
    assert source_corr > 0.7 and abs(drawn_corr - source_corr) < 0.1
    copied = drawn.merge(table[["width", "height"]], on=["width", "height"])
    assert copied.empty


def test_by_class_keeps_each_label_count_and_its_own_distribution() -> None:
    table = source()
    drawn = synthesize(table, "label", by_class=True, rng=np.random.default_rng(0))
    assert list(drawn.columns) == list(table.columns)
    assert drawn.dtypes.to_dict() == table.dtypes.to_dict()
    assert drawn["label"].value_counts().to_dict() == table["label"].value_counts().to_dict()
    # Positives were drawn from positives only: their widths sit where the source's did.
    for label in (0, 1):
        mean = table.loc[table["label"] == label, "width"].mean()
        assert drawn.loc[drawn["label"] == label, "width"].mean() == pytest.approx(mean, abs=0.3)


def test_joint_drawing_keeps_the_target_related_to_the_features() -> None:
    table = source().assign(score=lambda t: np.round(t["width"] * 4.0, 2)).drop(columns="label")
    drawn = synthesize(table, "score", by_class=False, rng=np.random.default_rng(0))
    assert len(drawn) == len(table)
    assert drawn["width"].corr(drawn["score"], method="spearman") > 0.9


def test_the_same_seed_draws_the_same_rows_and_another_seed_others() -> None:
    table = source()
    first = synthesize(table, "label", True, np.random.default_rng(3))
    assert first.equals(synthesize(table, "label", True, np.random.default_rng(3)))
    assert not first.equals(synthesize(table, "label", True, np.random.default_rng(4)))
