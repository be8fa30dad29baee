"""The metrics competitions are graded by, keyed by name, computed with scikit-learn.

Each :class:`Metric` knows its direction, the domain its predictions must lie in (which the
validator enforces before scoring) and how to score a submission against the answers once both
are aligned on the competition's id column. Only MAP@K has no scikit-learn counterpart and is
written out here, as Kaggle defines it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlmaster.competition.spec import CompetitionSpec

# What the predictions of a metric must look like; validation checks these before scoring.
Domain = Literal[
    "probability",  # numbers in [0, 1]
    "label",  # class labels, compared with the answers' labels as values
    "integer_label",  # whole numbers (QWK), within spec.labels where declared
    "non_negative",  # numbers >= 0 (RMSLE)
    "real",  # any finite number
    "ranking",  # space-separated predicted items, best first (MAP@K)
]

# MLE-bench (and Kaggle) clip log-loss probabilities to [eps, 1 - eps].
LOG_LOSS_EPS = 1e-15


class InvalidSubmissionError(ValueError):
    """The submission cannot be scored; the message says what is wrong with it."""


ScoreFn = Callable[[np.ndarray, np.ndarray, CompetitionSpec], float]


@dataclass(frozen=True)
class Metric:
    """One grading metric: its direction, its prediction domain and its score function."""

    name: str
    lower_is_better: bool
    domain: Domain
    _score: ScoreFn

    def score(
        self, answers: pd.DataFrame, submission: pd.DataFrame, spec: CompetitionSpec
    ) -> float:
        """Score ``submission`` against ``answers``, rows matched on ``spec.id_column``."""
        y_true, y_pred = align(answers, submission, spec)
        if self.domain in ("label", "integer_label"):
            y_true, y_pred = _as_comparable_labels(y_true, y_pred)
        elif self.domain != "ranking":
            y_true = _as_numbers(y_true, "answers")
            y_pred = _as_numbers(y_pred, "submission")
        return float(self._score(y_true, y_pred, spec))


def align(
    answers: pd.DataFrame, submission: pd.DataFrame, spec: CompetitionSpec
) -> tuple[np.ndarray, np.ndarray]:
    """The target values of answers and submission, in the same row order (the answers').

    One target column gives 1-D arrays, several give 2-D arrays (rows x targets).
    """
    id_col, targets = spec.id_column, list(spec.target_columns)
    for name, frame in (("answers", answers), ("submission", submission)):
        missing = [c for c in [id_col, *targets] if c not in frame.columns]
        if missing:
            raise InvalidSubmissionError(f"{name} lacks column(s) {', '.join(missing)}")
    if len(answers) != len(submission):
        raise InvalidSubmissionError(
            f"submission has {len(submission)} rows, the answers have {len(answers)}"
        )
    # A hash join on the ids, as text: the submission's rows in the answers' order.
    pred_ids = pd.Index(submission[id_col].astype(str))
    positions = pred_ids.get_indexer(answers[id_col].astype(str)) if pred_ids.is_unique else None
    if positions is None or (positions < 0).any():
        raise InvalidSubmissionError("submission ids do not match the answers' ids")
    y_true = answers[targets].to_numpy()
    y_pred = submission[targets].to_numpy()[positions]
    if len(targets) == 1:
        return y_true[:, 0], y_pred[:, 0]
    return y_true, y_pred


def _as_numbers(values: np.ndarray, what: str) -> np.ndarray:
    try:
        numbers = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise InvalidSubmissionError(f"{what} hold non-numeric values ({error})") from None
    if not np.isfinite(numbers).all():
        raise InvalidSubmissionError(f"{what} hold missing or infinite values")
    return numbers


def _as_comparable_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels of both sides as one type: integers, numbers, or else strings."""
    true_series = pd.Series(np.ravel(y_true))
    if pd.api.types.is_numeric_dtype(true_series) and not pd.api.types.is_bool_dtype(true_series):
        true_num = _as_numbers(y_true, "answers")
        pred_num = _as_numbers(y_pred, "submission")
        if _integral(true_num) and _integral(pred_num):
            return true_num.astype(np.int64), pred_num.astype(np.int64)
        return true_num, pred_num
    return np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(np.equal(np.mod(values, 1), 0)))


# --- score functions: (y_true, y_pred, spec) -> float --------------------------------------


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    # Several target columns are compared cell by cell.
    return float(skm.accuracy_score(np.ravel(y_true), np.ravel(y_pred)))


def _roc_auc(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    # 2-D targets: the mean of each column's AUC (MLE-bench's "mean column-wise ROC AUC").
    return float(skm.roc_auc_score(y_true, y_pred, average="macro"))


def _log_loss(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    """Binary (one probability column) or multi-class (one-hot answers, one column per class).

    As Kaggle and MLE-bench do, each row of a multi-class submission is divided by its sum (so
    it need not sum to one exactly), then probabilities are clipped to [1e-15, 1 - 1e-15].
    """
    if y_pred.ndim == 1:
        clipped = np.clip(y_pred, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
        return float(skm.log_loss(y_true, clipped, labels=[0, 1]))
    sums = y_pred.sum(axis=1, keepdims=True)
    # Divide each row by its sum, then clip; an all-zero row says nothing: uniform.
    rows = np.divide(y_pred, sums, out=np.full_like(y_pred, 1 / y_pred.shape[1]), where=sums > 0)
    rows = np.clip(rows, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    labels = list(range(rows.shape[1]))
    return float(skm.log_loss(np.argmax(y_true, axis=1), rows, labels=labels))


def _rmse(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.root_mean_squared_error(y_true, y_pred))


def _rmsle(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    if (y_pred < 0).any():
        raise InvalidSubmissionError("RMSLE needs non-negative predictions")
    return float(skm.root_mean_squared_log_error(y_true, y_pred))


def _mae(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.mean_absolute_error(y_true, y_pred))


def _mse(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.mean_squared_error(y_true, y_pred))


def _r2(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.r2_score(y_true, y_pred))


def _f1_binary(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    positive = spec.positive_label
    if y_true.dtype.kind in "iuf" and not isinstance(positive, str):
        pos_label: int | float | str = positive
    else:
        pos_label = str(positive)
    return float(
        skm.f1_score(y_true, y_pred, pos_label=pos_label, average="binary", zero_division=0.0)
    )


def _f1_macro(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0.0))


def _f1_micro(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.f1_score(y_true, y_pred, average="micro", zero_division=0.0))


def _qwk(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    return float(skm.cohen_kappa_score(y_true, y_pred, weights="quadratic"))


def average_precision_at_k(actual: list[str], predicted: list[str], k: int) -> float:
    """Kaggle's AP@K: precision at each new hit among the first k predictions, averaged."""
    if not actual:
        return 0.0
    hits, total = 0, 0.0
    seen: set[str] = set()
    for rank, item in enumerate(predicted[:k], start=1):
        if item in actual and item not in seen:
            hits += 1
            total += hits / rank
        seen.add(item)
    return total / min(len(actual), k)


def _map_at_k(y_true: np.ndarray, y_pred: np.ndarray, spec: CompetitionSpec) -> float:
    if spec.metric_k is None:
        raise ValueError("map_at_k needs metric_k in the competition spec")
    scores = [
        average_precision_at_k(_items(actual), _items(predicted), spec.metric_k)
        for actual, predicted in zip(np.ravel(y_true), np.ravel(y_pred), strict=True)
    ]
    return float(np.mean(scores))


def _items(cell: object) -> list[str]:
    """Space-separated items of one cell; an empty or missing cell has none."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    return str(cell).split()


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        Metric("accuracy", False, "label", _accuracy),
        Metric("roc_auc", False, "probability", _roc_auc),
        Metric("roc_auc_multilabel", False, "probability", _roc_auc),
        Metric("log_loss", True, "probability", _log_loss),
        Metric("rmse", True, "real", _rmse),
        Metric("rmsle", True, "non_negative", _rmsle),
        Metric("mae", True, "real", _mae),
        Metric("mse", True, "real", _mse),
        Metric("r2", False, "real", _r2),
        Metric("f1", False, "label", _f1_binary),
        Metric("f1_macro", False, "label", _f1_macro),
        Metric("f1_micro", False, "label", _f1_micro),
        Metric("qwk", False, "integer_label", _qwk),
        Metric("map_at_k", False, "ranking", _map_at_k),
    ]
}


def get_metric(name: str) -> Metric:
    """The metric called ``name``; a ``KeyError`` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}") from None
