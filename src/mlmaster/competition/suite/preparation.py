"""Turning one cleaned source table into a competition's files, deterministically.

Every competition goes through the same steps, all seeded with ``SEED`` like MLE-bench's
``random_state=0``: an optional subsample, a train/test split (stratified, random, or by whole
groups), fresh ids drawn as a random permutation (so an id says nothing about the source row
order, which can leak the target), and the naive baseline that becomes ``sample_submission.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from mlmaster.competition.spec import CompetitionSpec

SEED = 0
ID_COLUMN = "id"

SplitKind = Literal["stratified", "random", "grouped"]
Baseline = Literal["prior", "majority", "mean", "median", "half", "zero"]


@dataclass(frozen=True)
class SplitPlan:
    """How a source table becomes train and test.

    ``group_column`` (grouped splits only) names a column whose values are kept whole on one
    side; it is dropped from the published files unless it is also a feature.
    """

    kind: SplitKind
    test_fraction: float
    max_rows: int | None = None
    group_column: str | None = None
    drop_group_column: bool = False


@dataclass(frozen=True)
class PreparedTables:
    """The four tables of a competition, ids fresh, rows ordered by id."""

    train: pd.DataFrame  # id + features + targets
    test: pd.DataFrame  # id + features
    answers: pd.DataFrame  # id + targets (private)
    sample_submission: pd.DataFrame  # id + the naive baseline


def prepare_tables(
    table: pd.DataFrame, spec: CompetitionSpec, plan: SplitPlan, baseline: Baseline
) -> PreparedTables:
    """Subsample, split, give fresh ids and build the baseline, all seeded."""
    targets = list(spec.target_columns)
    table = table.reset_index(drop=True)
    if plan.max_rows is not None and len(table) > plan.max_rows:
        table = table.sample(n=plan.max_rows, random_state=SEED).reset_index(drop=True)
    train_idx, test_idx = _split_indices(table, targets, plan)
    ids = np.random.default_rng(SEED).permutation(len(table)) + 1
    table = table.assign(**{ID_COLUMN: ids})
    if plan.group_column is not None and plan.drop_group_column:
        table = table.drop(columns=[plan.group_column])
    features = [c for c in table.columns if c != ID_COLUMN and c not in targets]
    train = _by_id(table.iloc[train_idx][[ID_COLUMN, *features, *targets]])
    test_full = _by_id(table.iloc[test_idx])
    test = test_full[[ID_COLUMN, *features]]
    answers = test_full[[ID_COLUMN, *targets]]
    sample = answers[[ID_COLUMN]].copy()
    for column in targets:
        sample[column] = baseline_value(train[column], baseline)
    return PreparedTables(train=train, test=test, answers=answers, sample_submission=sample)


def _split_indices(
    table: pd.DataFrame, targets: list[str], plan: SplitPlan
) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(table))
    if plan.kind == "grouped":
        if plan.group_column is None:
            raise ValueError("a grouped split needs group_column")
        splitter = GroupShuffleSplit(n_splits=1, test_size=plan.test_fraction, random_state=SEED)
        train_idx, test_idx = next(splitter.split(rows, groups=table[plan.group_column]))
        return train_idx, test_idx
    stratify = table[targets[0]] if plan.kind == "stratified" else None
    train_idx, test_idx = train_test_split(
        rows, test_size=plan.test_fraction, random_state=SEED, stratify=stratify
    )
    return np.sort(train_idx), np.sort(test_idx)


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)


def baseline_value(train_target: pd.Series, baseline: Baseline) -> float | int:
    """The naive prediction a Kaggle sample submission would carry, learnt from train only."""
    if baseline == "prior":
        return round(float(train_target.mean()), 6)
    if baseline == "majority":
        # Ties go to the smallest label, so the choice is deterministic.
        counts = train_target.value_counts()
        return int(min(counts[counts == counts.max()].index))
    if baseline == "mean":
        return round(float(train_target.mean()), 4)
    if baseline == "median":
        return float(train_target.median())
    if baseline == "half":
        return 0.5
    return 0
