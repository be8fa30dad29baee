"""The holdout carving: seeded, stratified, grouped, and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlmaster.selection.holdout import (
    MIN_CLASS_ROWS,
    MIN_TRAIN_ROWS,
    Carved,
    HoldoutPlan,
    NoHoldout,
    carve,
    class_column,
)


def table(rows: int, *, classes: int = 0, groups: int = 0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"id": [f"r{i}" for i in range(rows)], "x": rng.normal(size=rows)}
    if classes:
        data["y"] = rng.integers(0, classes, size=rows)
    else:
        data["y"] = rng.normal(size=rows)
    if groups:
        data["g"] = rng.integers(0, groups, size=rows)
    return pd.DataFrame(data)


def plan(**changes: object) -> HoldoutPlan:
    base: dict[str, object] = {
        "id_column": "id",
        "target_columns": ["y"],
        "task_type": "regression",
        "fraction": 0.1,
        "seed": 0,
        "min_held": 1,
    }
    base.update(changes)
    return HoldoutPlan(**base)  # type: ignore[arg-type]


def carved(train: pd.DataFrame, p: HoldoutPlan) -> Carved:
    result = carve(train, p)
    assert isinstance(result, Carved), result
    return result


def test_the_held_and_kept_rows_partition_the_table_in_its_order() -> None:
    train = table(1000)
    result = carved(train, plan())
    assert len(result.held) == 100
    assert len(result.kept) == 900
    assert set(result.held["id"]).isdisjoint(result.kept["id"])
    assert set(result.held["id"]) | set(result.kept["id"]) == set(train["id"])
    assert list(result.kept.index) == sorted(result.kept.index)
    assert result.how == "random"


def test_the_same_seed_carves_the_same_slice_and_another_seed_another() -> None:
    train = table(1000)
    first = carved(train, plan(seed=3)).held["id"].tolist()
    assert carved(train, plan(seed=3)).held["id"].tolist() == first
    assert carved(train, plan(seed=4)).held["id"].tolist() != first


@pytest.mark.parametrize("task", ["binary", "multiclass", "ordinal"])
def test_a_categorical_target_is_stratified(task: str) -> None:
    rng = np.random.default_rng(1)
    # one rare class (3 %) that a plain random slice would often under-sample
    labels = rng.choice(["a", "b", "rare"], size=2000, p=[0.6, 0.37, 0.03])
    train = pd.DataFrame({"id": range(2000), "y": labels})
    result = carved(train, plan(task_type=task, fraction=0.2))
    assert result.how == "stratified on y"
    for label in ("a", "b", "rare"):
        total = int((train["y"] == label).sum())
        held = int((result.held["y"] == label).sum())
        assert held == max(2, round(total * 0.2))


def test_groups_stay_whole() -> None:
    train = table(1000, groups=40)
    result = carved(train, plan(group_column="g"))
    assert result.how == "grouped by g"
    assert set(result.held["g"]).isdisjoint(result.kept["g"])
    assert 60 <= len(result.held) <= 200  # whole groups near the fraction


@pytest.mark.parametrize(
    ("train", "p", "reason"),
    [
        (table(MIN_TRAIN_ROWS - 1), plan(), "rows (fewer than"),
        (table(500), plan(target_columns=["price"]), "lacks the column(s) price"),
        (table(500), plan(id_column="Id"), "lacks the column(s) Id"),
        (table(500).assign(id="same"), plan(), "repeats ids"),
        (table(500, groups=3), plan(group_column="g"), "3 groups"),
        (table(500), plan(group_column="nope"), "group column 'nope' is not"),
        (table(500), plan(fraction=1.0), "not between 0 and 1"),
        (table(980), plan(min_held=100), "0.1 of 980 training rows is 98 rows, too few"),
    ],
)
def test_refusals_say_why(train: pd.DataFrame, p: HoldoutPlan, reason: str) -> None:
    result = carve(train, p)
    assert isinstance(result, NoHoldout)
    assert reason in result.reason


def test_a_class_too_rare_to_hold_back_is_refused() -> None:
    labels = ["a"] * 400 + ["b"] * (MIN_CLASS_ROWS - 1)
    train = pd.DataFrame({"id": range(len(labels)), "y": labels})
    result = carve(train, plan(task_type="binary"))
    assert isinstance(result, NoHoldout)
    assert "'b'" in result.reason


def test_rows_without_a_target_are_refused() -> None:
    train = table(500)
    train.loc[7, "y"] = np.nan
    result = carve(train, plan())
    assert isinstance(result, NoHoldout)
    assert "without a target" in result.reason


def test_a_holdout_of_exactly_the_minimum_is_carved() -> None:
    assert len(carved(table(1000), plan(min_held=100)).held) == 100


def authors(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    """A table holding each row's class, where the submission wants one column per class."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"id{i}" for i in range(rows)],
            "text": [f"words {i}" for i in range(rows)],
            "author": rng.choice(["EAP", "HPL", "MWS"], size=rows),
        }
    )


def test_the_column_naming_the_class_columns_is_found() -> None:
    assert class_column(authors(), "id", ["EAP", "HPL", "MWS"]) == "author"
    padded = authors().assign(author=lambda t: " " + t["author"])  # spaces around a label
    assert class_column(padded, "id", ["EAP", "HPL", "MWS"]) == "author"


@pytest.mark.parametrize(
    ("train", "targets"),
    [
        (authors(), ["author"]),  # one target: the table holds it
        (authors().assign(EAP=0, HPL=0, MWS=1), ["EAP", "HPL", "MWS"]),  # already one-hot
        (authors().assign(again=lambda t: t["author"]), ["EAP", "HPL", "MWS"]),  # two fit
        (authors().assign(author="EAP"), ["EAP", "HPL", "MWS"]),  # one class only
        (
            authors(1500).assign(author=lambda t: t["author"].where(t.index < 1499, "Poe")),
            ["EAP", "HPL", "MWS"],
        ),
    ],
    ids=["single-target", "one-hot-already", "two-candidates", "one-class", "a-foreign-label-late"],
)
def test_no_class_column_unless_exactly_one_names_the_targets(
    train: pd.DataFrame, targets: list[str]
) -> None:
    assert class_column(train, "id", targets) is None
