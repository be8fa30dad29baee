"""Carve the holdout: a seeded slice of the training rows that no script ever trains on.

Pure: a table in, two tables out (the rows scripts keep, the rows held back), or the reason
no holdout can be carved. The slice is

* **stratified** when the task has one categorical target (binary, multiclass, ordinal): each
  class gives the same fraction of its rows, so a rare class is held back too;
* **grouped** when a group column is named: all rows of a group fall on the same side, so a
  script cannot score well on the holdout by remembering a group it trained on;
* otherwise a plain seeded random slice.

The same table, fraction and seed always give the same slice (a resumed run, a rerun, a
comparison between runs all see one holdout).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlmaster.competition.spec import TaskType

# Below these the holdout's score is noise, and the rows are worth more to training.
MIN_TRAIN_ROWS = 200
MIN_HELD_PER_CLASS = 2  # a stratified holdout needs this many rows of every class kept back
MIN_CLASS_ROWS = 20  # ...and every class this many rows in all
MIN_GROUPS = 10
CATEGORICAL_TASKS: frozenset[TaskType] = frozenset({"binary", "multiclass", "ordinal"})


@dataclass(frozen=True)
class HoldoutPlan:
    """What to carve: the columns that matter and how much."""

    id_column: str
    target_columns: list[str]
    task_type: TaskType
    fraction: float
    seed: int
    group_column: str | None = None
    min_held: int = 100  # fewer held rows than this rank nodes by noise: no holdout then


@dataclass(frozen=True)
class Carved:
    """A holdout: the rows scripts train on and the rows held back (both keep every column)."""

    kept: pd.DataFrame
    held: pd.DataFrame
    how: str  # "stratified on <target>", "grouped by <column>" or "random"


@dataclass(frozen=True)
class NoHoldout:
    """No holdout could be carved; ``reason`` says why in a phrase."""

    reason: str


def class_column(train: pd.DataFrame, id_column: str, targets: list[str]) -> str | None:
    """The training table's column whose values name the submission's target columns, when the
    submission asks for one probability column per class and the table holds the class itself
    (e.g. ``author`` with the values EAP, HPL and MWS for the columns of those names); None
    when the table holds the target columns, or no single column fits.

    The held rows' answers are then that column one-hot over the target columns, which is how
    the competition's own answers hold them.
    """
    if len(targets) < 2 or all(t in train.columns for t in targets):
        return None
    names = set(targets)
    found = []
    for column in train.columns:
        if column == id_column or column in names:
            continue
        head = _labels(train[column].head(1000))
        if not head <= names:  # most columns fail here, before the whole column is read
            continue
        values = _labels(train[column])
        if values <= names and len(values) >= 2:
            found.append(column)
    return found[0] if len(found) == 1 else None


def _labels(column: pd.Series) -> set[str]:
    return set(column.dropna().astype(str).str.strip()) - {""}


def carve(train: pd.DataFrame, plan: HoldoutPlan) -> Carved | NoHoldout:
    """Split ``train`` as ``plan`` says, or say why it cannot be split."""
    if not 0.0 < plan.fraction < 1.0:
        return NoHoldout(f"holdout fraction {plan.fraction} is not between 0 and 1")
    needed = [plan.id_column, *plan.target_columns]
    missing = [c for c in needed if c not in train.columns]
    if missing:
        return NoHoldout(
            f"the training table lacks the column(s) {', '.join(missing)} that the "
            "submission names (its targets are not those of the submission)"
        )
    if train[plan.id_column].duplicated().any():
        return NoHoldout(f"the training table's id column {plan.id_column!r} repeats ids")
    if train[plan.target_columns].isna().any().any():
        return NoHoldout("the training table has rows without a target")
    if len(train) < MIN_TRAIN_ROWS:
        return NoHoldout(f"the training table has {len(train)} rows (fewer than {MIN_TRAIN_ROWS})")
    size = round(len(train) * plan.fraction)
    if size < plan.min_held:
        return NoHoldout(
            f"{plan.fraction:g} of {len(train)} training rows is {size} rows, too few to rank "
            f"solutions by (selection.min_holdout_rows = {plan.min_held})"
        )
    rng = np.random.default_rng(plan.seed)
    if plan.group_column is not None:
        return _grouped(train, plan, rng)
    if plan.task_type in CATEGORICAL_TASKS and len(plan.target_columns) == 1:
        return _stratified(train, plan, rng)
    held = rng.permutation(len(train))[: _held_count(len(train), plan.fraction)]
    return _split(train, held, "random")


def _held_count(rows: int, fraction: float) -> int:
    return max(1, min(rows - 1, round(rows * fraction)))


def _stratified(
    train: pd.DataFrame, plan: HoldoutPlan, rng: np.random.Generator
) -> Carved | NoHoldout:
    target = plan.target_columns[0]
    labels = train[target].astype(str).to_numpy()
    classes, counts = np.unique(labels, return_counts=True)
    rare = [c for c, n in zip(classes, counts, strict=True) if n < MIN_CLASS_ROWS]
    if rare:
        return NoHoldout(
            f"class(es) {', '.join(map(repr, rare[:5]))} of {target!r} have fewer than "
            f"{MIN_CLASS_ROWS} rows"
        )
    held: list[np.ndarray] = []
    for label in classes:  # sorted, so the draw order (and the slice) is fixed by the seed
        rows = np.flatnonzero(labels == label)
        count = max(MIN_HELD_PER_CLASS, round(len(rows) * plan.fraction))
        held.append(rng.permutation(rows)[:count])
    return _split(train, np.concatenate(held), f"stratified on {target}")


def _grouped(
    train: pd.DataFrame, plan: HoldoutPlan, rng: np.random.Generator
) -> Carved | NoHoldout:
    column = plan.group_column
    assert column is not None
    if column not in train.columns:
        return NoHoldout(f"the group column {column!r} is not in the training table")
    groups = train[column].astype(str).to_numpy()
    names = np.unique(groups)
    if len(names) < MIN_GROUPS:
        return NoHoldout(
            f"the group column {column!r} has {len(names)} groups (fewer than {MIN_GROUPS})"
        )
    # Whole groups in a seeded order until the fraction of rows is reached.
    target = _held_count(len(train), plan.fraction)
    chosen: list[str] = []
    taken = 0
    sizes = pd.Series(groups).value_counts()
    for name in rng.permutation(names):
        if taken >= target or len(chosen) == len(names) - 1:
            break
        chosen.append(str(name))
        taken += int(sizes[name])
    held = np.flatnonzero(np.isin(groups, chosen))
    return _split(train, held, f"grouped by {column}")


def _split(train: pd.DataFrame, held_positions: np.ndarray, how: str) -> Carved:
    mask = np.zeros(len(train), dtype=bool)
    mask[held_positions] = True
    # Both keep the table's own row order, so the derived train file reads like the original.
    return Carved(
        kept=train.iloc[np.flatnonzero(~mask)], held=train.iloc[np.flatnonzero(mask)], how=how
    )
