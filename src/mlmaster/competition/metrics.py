"""Every metric competitions are graded by: one :class:`Metric` record each, in one registry.

A record holds every fact about its metric that any part of mlmaster needs: the score function
(computed with scikit-learn; only MAP@K is written out, as Kaggle defines it), the direction,
what the predictions must be (the domain the validator enforces before scoring), the task a
competition graded by it usually is, MLE-bench's grader names for it, the phrases a description
names it by, scikit-learn's scorer for it, the range its scores lie in, and its name and
definition in words. Every other table (the config.yaml grader map, the description keyword
rules, the offline coder's output kinds, cross-validation scorers, the bundled suite's
evaluation sections) is derived from :data:`METRICS`.

Adding a metric: write its score function, :func:`register` one record below, and add its
parity case to the test that holds the generated scripts' own metric code to this one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlmaster.competition.spec import CompetitionSpec, TaskType

# What the predictions of a metric must look like; validation checks these before scoring.
Domain = Literal[
    "probability",  # numbers in [0, 1]
    "label",  # class labels, compared with the answers' labels as values
    "integer_label",  # whole numbers (QWK), within spec.labels where declared
    "non_negative",  # numbers >= 0 (RMSLE)
    "real",  # any finite number
    "ranking",  # space-separated predicted items, best first (MAP@K)
]
# What a metric scores, as a model must produce it.
Predictions = Literal["probabilities", "labels", "values", "ranking"]
_PREDICTIONS: dict[Domain, Predictions] = {
    "probability": "probabilities",
    "label": "labels",
    "integer_label": "labels",
    "non_negative": "values",
    "real": "values",
    "ranking": "ranking",
}

# MLE-bench (and Kaggle) clip log-loss probabilities to [eps, 1 - eps].
LOG_LOSS_EPS = 1e-15
UNBOUNDED = math.inf


class InvalidSubmissionError(ValueError):
    """The submission cannot be scored; the message says what is wrong with it."""


ScoreFn = Callable[[np.ndarray, np.ndarray, CompetitionSpec], float]


@dataclass(frozen=True)
class Metric:
    """One grading metric and every fact about it; the other tables derive from these."""

    name: str  # the key competition specs use, e.g. "rmsle"
    lower_is_better: bool
    domain: Domain  # what each prediction must be; the validator enforces it
    task_type: TaskType  # the task a competition graded by this metric usually is
    score_fn: ScoreFn  # (y_true, y_pred, spec) -> score, both aligned on the ids
    graders: tuple[str, ...]  # MLE-bench config.yaml ``grader.name`` values that compute it
    phrases: tuple[str, ...]  # regexes naming it in a description, most specific first
    sklearn_scoring: str | None  # scikit-learn's scorer computing it; None: none exists
    bounds: tuple[float, float]  # the range of its scores (the best end is one of them)
    title: str  # its name as a competition page writes it; names it to metric_from_description
    about: str  # what it computes, in one sentence without its name (a description's words)

    @property
    def predictions(self) -> Predictions:
        """What the metric scores: probabilities, labels, values or rankings."""
        return _PREDICTIONS[self.domain]

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
        return float(self.score_fn(y_true, y_pred, spec))


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


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add ``metric`` to the registry; its name and grader aliases must be new."""
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is registered twice")
    taken = {alias for known in METRICS.values() for alias in known.graders}
    if clash := taken.intersection(metric.graders):
        raise ValueError(f"grader name(s) {sorted(clash)} already name another metric")
    METRICS[metric.name] = metric
    return metric


def get_metric(name: str) -> Metric:
    """The metric called ``name``; a ``KeyError`` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}") from None


# --- views derived from the registry ----------------------------------------------------


def grader_metrics() -> dict[str, str]:
    """MLE-bench grader name (``config.yaml`` ``grader.name``) -> our metric's name."""
    return {alias: m.name for m in METRICS.values() for alias in m.graders}


def metric_phrases() -> dict[str, tuple[str, ...]]:
    """Metric name -> the regexes naming it in a competition description."""
    return {m.name: m.phrases for m in METRICS.values()}


def metrics_scoring(predictions: Predictions) -> frozenset[str]:
    """Names of the metrics that score ``predictions`` (probabilities, labels, ...)."""
    return frozenset(m.name for m in METRICS.values() if m.predictions == predictions)


def metrics_of_task(task_type: TaskType) -> frozenset[str]:
    """Names of the metrics whose competitions are usually of ``task_type``."""
    return frozenset(m.name for m in METRICS.values() if m.task_type == task_type)


# --- the records ----------------------------------------------------------------------------

_UNIT = (0.0, 1.0)
_NON_NEGATIVE = (0.0, UNBOUNDED)

register(
    Metric(
        name="accuracy",
        lower_is_better=False,
        domain="label",
        task_type="multiclass",
        score_fn=_accuracy,
        graders=("accuracy",),
        phrases=(r"classification accuracy", r"\baccuracy\b"),
        sklearn_scoring="accuracy",
        bounds=_UNIT,
        title="accuracy",
        about="the fraction of test rows whose predicted label equals the true label",
    )
)
register(
    Metric(
        name="roc_auc",
        lower_is_better=False,
        domain="probability",
        task_type="binary",
        score_fn=_roc_auc,
        graders=("auc", "auc-roc", "roc-auc"),
        phrases=(
            r"area under (?:the )?(?:receiver operating characteristic|roc)",
            r"\broc[ -]?auc\b",
            r"\bauc(?:[ -]roc)?\b",
        ),
        sklearn_scoring="roc_auc",
        bounds=_UNIT,
        title="area under the ROC curve (ROC AUC)",
        about=(
            "how well the predicted scores rank the positive rows above the negative ones; only "
            "their order matters"
        ),
    )
)
register(
    Metric(
        name="roc_auc_multilabel",
        lower_is_better=False,
        domain="probability",
        task_type="multilabel",
        score_fn=_roc_auc,
        graders=("mean-column-wise-auc", "mean-column-wise-roc-auc"),
        phrases=(),  # named like roc_auc; several target columns make it this one
        sklearn_scoring="roc_auc",
        bounds=_UNIT,
        title="mean column-wise area under the ROC curve",
        about=(
            "each target column's ROC AUC (how well its scores rank positives above negatives), "
            "averaged over the columns"
        ),
    )
)
register(
    Metric(
        name="log_loss",
        lower_is_better=True,
        domain="probability",
        task_type="multiclass",
        score_fn=_log_loss,
        graders=("log-loss", "logloss", "binary-log-loss", "multi-class-log-loss"),
        phrases=(
            r"log(?:arithmic)?[ -]?loss",
            r"cross[ -]entropy",
            r"negative log[ -]likelihood",
        ),
        sklearn_scoring="neg_log_loss",
        bounds=_NON_NEGATIVE,
        title="log loss",
        about=(
            "the cross-entropy between the predicted probabilities and the true labels; "
            "probabilities are clipped to [1e-15, 1 - 1e-15] (with one column per class, each row "
            "is first divided by its sum)"
        ),
    )
)
register(
    Metric(
        name="rmse",
        lower_is_better=True,
        domain="real",
        task_type="regression",
        score_fn=_rmse,
        graders=("rmse",),
        phrases=(r"root[ -]mean[ -]squared?[ -]error", r"\brmse\b"),
        sklearn_scoring="neg_root_mean_squared_error",
        bounds=_NON_NEGATIVE,
        title="root mean squared error (RMSE)",
        about=(
            "the square root of the mean squared difference between predicted and true values "
            "(several target columns: the mean of each column's)"
        ),
    )
)
register(
    Metric(
        name="rmsle",
        lower_is_better=True,
        domain="non_negative",
        task_type="regression",
        score_fn=_rmsle,
        graders=("rmsle", "mean-column-wise-rmsle"),
        phrases=(r"root[ -]mean[ -]squared?[ -]log(?:arithmic)?[ -]error", r"\brmsle\b"),
        sklearn_scoring="neg_root_mean_squared_log_error",
        bounds=_NON_NEGATIVE,
        title="root mean squared logarithmic error (RMSLE)",
        about=(
            "the RMSE between log(1 + prediction) and log(1 + true value), so relative errors "
            "count, not absolute ones (several target columns: the mean of each column's)"
        ),
    )
)
register(
    Metric(
        name="mae",
        lower_is_better=True,
        domain="real",
        task_type="regression",
        score_fn=_mae,
        graders=("mae",),
        phrases=(r"mean[ -]absolute[ -]error", r"\bmae\b"),
        sklearn_scoring="neg_mean_absolute_error",
        bounds=_NON_NEGATIVE,
        title="mean absolute error (MAE)",
        about="the mean absolute difference between predicted and true values",
    )
)
register(
    Metric(
        name="mse",
        lower_is_better=True,
        domain="real",
        task_type="regression",
        score_fn=_mse,
        graders=("mse",),
        phrases=(r"(?<!root )mean[ -]squared?[ -]error", r"\bmse\b"),
        sklearn_scoring="neg_mean_squared_error",
        bounds=_NON_NEGATIVE,
        title="mean squared error (MSE)",
        about="the mean squared difference between predicted and true values",
    )
)
register(
    Metric(
        name="r2",
        lower_is_better=False,
        domain="real",
        task_type="regression",
        score_fn=_r2,
        graders=("r2",),
        phrases=(r"coefficient of determination", r"\br\s*(?:\^\s*2|2|²)(?!\w)"),
        sklearn_scoring="r2",
        bounds=(-UNBOUNDED, 1.0),
        title="coefficient of determination (R²)",
        about=(
            "one minus the squared error of the predictions over that of always predicting the mean"
            " (0: no better than the mean)"
        ),
    )
)
register(
    Metric(
        name="f1",
        lower_is_better=False,
        domain="label",
        task_type="binary",
        score_fn=_f1_binary,
        graders=("f1", "f1-score"),
        phrases=(r"\bf1(?:[ -]score)?\b", r"\bf[ -]score\b", r"\bf-?measure\b"),
        sklearn_scoring="f1",
        bounds=_UNIT,
        title="F1 score",
        about="the harmonic mean of precision and recall on the positive class, from hard labels",
    )
)
register(
    Metric(
        name="f1_macro",
        lower_is_better=False,
        domain="label",
        task_type="multiclass",
        score_fn=_f1_macro,
        graders=("macro-f1", "f1-macro"),
        phrases=(r"macro[ -](?:averaged[ -])?f1", r"\bf1[ -]macro\b", r"mean f1"),
        sklearn_scoring="f1_macro",
        bounds=_UNIT,
        title="macro-averaged F1 score",
        about=(
            "each class's F1 score (the harmonic mean of its precision and recall), averaged over "
            "the classes"
        ),
    )
)
register(
    Metric(
        name="f1_micro",
        lower_is_better=False,
        domain="label",
        task_type="multiclass",
        score_fn=_f1_micro,
        graders=("micro-f1", "f1-micro"),
        phrases=(r"micro[ -](?:averaged[ -])?f1", r"\bf1[ -]micro\b"),
        sklearn_scoring="f1_micro",
        bounds=_UNIT,
        title="micro-averaged F1 score",
        about=(
            "the F1 score of all classes' true positives, false positives and false negatives "
            "pooled"
        ),
    )
)
register(
    Metric(
        name="qwk",
        lower_is_better=False,
        domain="integer_label",
        task_type="ordinal",
        score_fn=_qwk,
        graders=("qwk", "quadratic-weighted-kappa"),
        phrases=(
            r"quadratic(?:ally)?[ -]weighted[ -](?:cohen'?s[ -])?kappa",
            r"\bqwk\b",
            r"cohen'?s kappa",
        ),
        sklearn_scoring=None,  # scikit-learn has no kappa scorer
        bounds=(-1.0, 1.0),
        title="quadratic weighted kappa",
        about=(
            "the agreement between predicted and true ratings, where a prediction far from the "
            "truth costs more than a near one (1 is perfect agreement, 0 is chance)"
        ),
    )
)
register(
    Metric(
        name="map_at_k",
        lower_is_better=False,
        domain="ranking",
        task_type="other",
        score_fn=_map_at_k,
        graders=("map@k",),
        phrases=(r"\bmap\s*@\s*\d+", r"\bmap@k\b", r"mean average precision"),
        sklearn_scoring=None,
        bounds=_UNIT,
        title="mean average precision at K (MAP@K)",
        about=(
            "for each row, the precision at each correct item among the first K predicted, "
            "averaged; then the mean over the rows"
        ),
    )
)
