"""Every metric agrees with scikit-learn, matches rows by id, and knows its direction."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from mlmaster.competition.metrics import (
    METRICS,
    InvalidSubmissionError,
    average_precision_at_k,
    get_metric,
    metric_phrases,
    metrics_of_task,
    register,
)
from mlmaster.competition.spec import CompetitionSpec

N = 60


def spec(metric: str, targets: list[str] | None = None, **extra: object) -> CompetitionSpec:
    return CompetitionSpec(
        id="t",
        name="t",
        metric=metric,
        lower_is_better=METRICS[metric].lower_is_better,
        id_column="id",
        target_columns=targets or ["y"],
        task_type="other",
        **extra,  # type: ignore[arg-type]
    )


def frames(
    y_true: np.ndarray, y_pred: np.ndarray, columns: list[str] | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers and a submission holding the same ids, the submission in another row order."""
    columns = columns or ["y"]
    ids = [f"id{i}" for i in range(len(y_true))]
    true_2d = np.asarray(y_true).reshape(len(ids), -1)
    pred_2d = np.asarray(y_pred).reshape(len(ids), -1)
    answers = pd.DataFrame(true_2d, columns=columns).assign(id=ids)
    submission = pd.DataFrame(pred_2d, columns=columns).assign(id=ids)
    shuffled = submission.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return answers, shuffled


rng = np.random.default_rng(7)
BINARY = rng.integers(0, 2, N)
PROBS = rng.uniform(0.01, 0.99, N)
REAL = rng.normal(10, 3, N)
POSITIVE = rng.lognormal(2, 1, N)
CLASSES = rng.integers(0, 4, N)
GUESSES = np.where(rng.uniform(size=N) < 0.6, CLASSES, rng.integers(0, 4, N))
ORDINAL = rng.integers(1, 6, N)
ORDINAL_GUESS = np.clip(ORDINAL + rng.integers(-1, 2, N), 1, 5)

CASES = [
    ("accuracy", CLASSES, GUESSES, skm.accuracy_score(CLASSES, GUESSES)),
    ("roc_auc", BINARY, PROBS, skm.roc_auc_score(BINARY, PROBS)),
    ("log_loss", BINARY, PROBS, skm.log_loss(BINARY, PROBS)),
    ("rmse", REAL, REAL + rng.normal(0, 1, N), None),
    ("rmsle", POSITIVE, POSITIVE * 1.1, skm.root_mean_squared_log_error(POSITIVE, POSITIVE * 1.1)),
    ("mae", REAL, REAL[::-1], skm.mean_absolute_error(REAL, REAL[::-1])),
    ("mse", REAL, REAL[::-1], skm.mean_squared_error(REAL, REAL[::-1])),
    ("r2", REAL, REAL * 0.9 + 1, skm.r2_score(REAL, REAL * 0.9 + 1)),
    ("f1", BINARY, (PROBS > 0.5).astype(int), skm.f1_score(BINARY, (PROBS > 0.5).astype(int))),
    ("f1_macro", CLASSES, GUESSES, skm.f1_score(CLASSES, GUESSES, average="macro")),
    ("f1_micro", CLASSES, GUESSES, skm.f1_score(CLASSES, GUESSES, average="micro")),
    (
        "qwk",
        ORDINAL,
        ORDINAL_GUESS,
        skm.cohen_kappa_score(ORDINAL, ORDINAL_GUESS, weights="quadratic"),
    ),
]


@pytest.mark.parametrize(("name", "y_true", "y_pred", "expected"), CASES, ids=[c[0] for c in CASES])
def test_agrees_with_scikit_learn(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, expected: float | None
) -> None:
    if expected is None:
        expected = skm.root_mean_squared_error(y_true, y_pred)
    answers, submission = frames(y_true, y_pred)
    assert get_metric(name).score(answers, submission, spec(name)) == pytest.approx(
        expected, abs=1e-9
    )


def test_multilabel_auc_is_the_mean_of_column_aucs() -> None:
    truth = np.column_stack([BINARY, 1 - BINARY[::-1], rng.integers(0, 2, N)])
    preds = rng.uniform(size=(N, 3))
    answers, submission = frames(truth, preds, ["a", "b", "c"])
    expected = np.mean([skm.roc_auc_score(truth[:, i], preds[:, i]) for i in range(3)])
    score = METRICS["roc_auc_multilabel"].score(
        answers, submission, spec("roc_auc_multilabel", ["a", "b", "c"])
    )
    assert score == pytest.approx(expected, abs=1e-9)


def test_multiclass_log_loss_from_one_hot_answers() -> None:
    probs = rng.dirichlet([1, 1, 1], N)
    one_hot = np.eye(3)[CLASSES % 3]
    answers, submission = frames(one_hot.astype(int), probs, ["a", "b", "c"])
    score = METRICS["log_loss"].score(answers, submission, spec("log_loss", ["a", "b", "c"]))
    assert score == pytest.approx(skm.log_loss(CLASSES % 3, probs), abs=1e-9)


def test_log_loss_normalises_rows_and_clips() -> None:
    probs = rng.dirichlet([1, 1, 1], N)
    one_hot = np.eye(3)[CLASSES % 3].astype(int)
    multi = spec("log_loss", ["a", "b", "c"])
    answers, normalised = frames(one_hot, probs, ["a", "b", "c"])
    _, scaled = frames(one_hot, probs * 7.0, ["a", "b", "c"])
    metric = METRICS["log_loss"]
    assert metric.score(answers, scaled, multi) == pytest.approx(
        metric.score(answers, normalised, multi), abs=1e-12
    )
    # A confident wrong answer costs -log(1e-15) on its row, not infinity.
    answers, wrong = frames(np.array([1, 0]), np.array([0.0, 0.0]))
    assert metric.score(answers, wrong, spec("log_loss")) == pytest.approx(
        -math.log(1e-15) / 2, rel=1e-6
    )


def test_text_labels_and_integral_floats_compare_as_labels() -> None:
    words = np.array(["cat", "dog", "cat", "owl"])
    answers, submission = frames(words, np.array(["cat", "dog", "owl", "owl"]))
    assert METRICS["accuracy"].score(answers, submission, spec("accuracy")) == 0.75
    answers, submission = frames(np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0]))
    assert METRICS["qwk"].score(answers, submission, spec("qwk")) == 1.0


def test_f1_uses_the_declared_positive_label() -> None:
    truth, guess = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    answers, submission = frames(truth, guess)
    positive_zero = METRICS["f1"].score(answers, submission, spec("f1", positive_label=0))
    assert positive_zero == pytest.approx(skm.f1_score(truth, guess, pos_label=0), abs=1e-9)


def test_map_at_k_follows_kaggle_definition() -> None:
    assert average_precision_at_k(["a"], ["a", "b", "c"], 3) == 1.0
    assert average_precision_at_k(["a"], ["b", "a", "c"], 3) == 0.5
    assert average_precision_at_k(["a"], ["b", "c", "d", "a"], 3) == 0.0
    assert average_precision_at_k(["a", "b"], ["a", "x", "b"], 3) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision_at_k(["a"], ["a", "a", "a"], 3) == 1.0
    answers, submission = frames(np.array(["a", "b"]), np.array(["a b", "a b"]))
    assert METRICS["map_at_k"].score(answers, submission, spec("map_at_k", metric_k=2)) == 0.75


def test_directions() -> None:
    lower = {name for name, metric in METRICS.items() if metric.lower_is_better}
    assert lower == {"log_loss", "rmse", "rmsle", "mae", "mse"}


def test_unknown_metric_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: accuracy"):
        get_metric("auc-pr")


def test_mismatched_ids_and_negative_rmsle_are_invalid() -> None:
    answers, submission = frames(POSITIVE[:5], POSITIVE[:5])
    submission.loc[0, "id"] = "elsewhere"
    with pytest.raises(InvalidSubmissionError, match="ids do not match"):
        METRICS["rmse"].score(answers, submission, spec("rmse"))
    answers, submission = frames(POSITIVE[:5], -POSITIVE[:5])
    with pytest.raises(InvalidSubmissionError, match="non-negative"):
        METRICS["rmsle"].score(answers, submission, spec("rmsle"))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=30),
    st.integers(0, 10_000),
)
def test_row_order_never_changes_a_score(values: list[float], seed: int) -> None:
    truth = np.array(values)
    guess = truth[::-1] + 1.0
    answers, in_order = frames(truth, guess, seed=seed)
    _, reordered = frames(truth, guess, seed=seed + 1)
    for name in ("rmse", "mae", "rmsle"):
        metric = METRICS[name]
        assert metric.score(answers, in_order, spec(name)) == pytest.approx(
            metric.score(answers, reordered, spec(name)), abs=1e-9
        )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=40))
def test_perfect_predictions_score_best(labels: list[int]) -> None:
    truth = np.array(labels)
    answers, submission = frames(truth, truth)
    assert METRICS["accuracy"].score(answers, submission, spec("accuracy")) == 1.0
    assert METRICS["rmse"].score(answers, submission, spec("rmse")) == 0.0
    if len(set(labels)) > 1:
        assert METRICS["qwk"].score(answers, submission, spec("qwk")) == pytest.approx(1.0)


# --- the registry: one record per metric, every other table derived from it ----------------


class _Fixed(BaseEstimator):
    """An 'estimator' that returns fixed predictions, so a scikit-learn scorer scores them."""

    def __init__(self, predictions: np.ndarray | None = None) -> None:
        self.predictions = predictions

    def predict(self, X: object) -> np.ndarray:
        assert self.predictions is not None
        return self.predictions

    def predict_proba(self, X: object) -> np.ndarray:
        assert self.predictions is not None
        return np.column_stack([1 - self.predictions, self.predictions])


class _FixedClassifier(ClassifierMixin, _Fixed):
    classes_ = np.array([0, 1])


class _FixedRegressor(RegressorMixin, _Fixed):
    pass


SCORER_CASES = {
    "accuracy": (BINARY, (PROBS > 0.5).astype(int)),
    "roc_auc": (BINARY, PROBS),
    "log_loss": (BINARY, PROBS),
    "rmse": (REAL, REAL[::-1]),
    "rmsle": (POSITIVE, POSITIVE[::-1]),
    "mae": (REAL, REAL[::-1]),
    "mse": (REAL, REAL[::-1]),
    "r2": (REAL, REAL * 0.9 + 1),
    "f1": (BINARY, (PROBS > 0.5).astype(int)),
    "f1_macro": (CLASSES, GUESSES),
    "f1_micro": (CLASSES, GUESSES),
}


@pytest.mark.parametrize("name", sorted(SCORER_CASES))
def test_the_declared_scikit_learn_scorer_computes_the_metric(name: str) -> None:
    metric = METRICS[name]
    assert metric.sklearn_scoring is not None
    y_true, y_pred = SCORER_CASES[name]
    scorer = skm.get_scorer(metric.sklearn_scoring)
    fixed = _FixedRegressor if metric.task_type == "regression" else _FixedClassifier
    sign = -1.0 if metric.lower_is_better else 1.0  # scikit-learn's scorers: higher is better
    answers, submission = frames(y_true, y_pred)
    expected = metric.score(answers, submission, spec(name))
    assert sign * scorer(fixed(y_pred), None, y_true) == pytest.approx(expected, abs=1e-9)


def test_every_metric_with_a_scorer_is_checked_against_it() -> None:
    with_scorer = {n for n, m in METRICS.items() if m.sklearn_scoring}
    assert with_scorer - {"roc_auc_multilabel"} == set(SCORER_CASES)


def test_derived_tables_name_only_registered_metrics() -> None:
    from mlmaster.competition.layout import GRADER_METRICS
    from mlmaster.offline.profile import LABEL_METRICS, PROBA_METRICS, RANKING_METRICS

    assert set(GRADER_METRICS.values()) == set(METRICS)  # every metric has an MLE-bench name
    assert GRADER_METRICS["multi-class-log-loss"] == "log_loss"
    kinds = [PROBA_METRICS, LABEL_METRICS, RANKING_METRICS, metrics_of_task("regression")]
    assert set().union(*kinds) == set(METRICS)
    assert sum(len(k) for k in kinds) == len(METRICS)  # each metric in exactly one kind


def test_metric_phrases_name_their_metric() -> None:
    import re

    for name, phrases in metric_phrases().items():
        for phrase in phrases:
            assert re.compile(phrase, re.IGNORECASE), f"{name}: {phrase}"
    from mlmaster.competition.infer import metric_from_description

    assert metric_from_description("Submissions are scored on RMSLE.") == "rmsle"
    assert metric_from_description("## Evaluation\nquadratic weighted kappa") == "qwk"


def test_scores_lie_within_the_declared_bounds() -> None:
    for name, (y_true, y_pred, _) in {c[0]: c[1:] for c in CASES}.items():
        low, high = METRICS[name].bounds
        answers, submission = frames(y_true, y_pred)
        assert low <= METRICS[name].score(answers, submission, spec(name)) <= high


def test_a_metric_or_grader_name_registered_twice_is_refused() -> None:
    accuracy = METRICS["accuracy"]
    with pytest.raises(ValueError, match="registered twice"):
        register(accuracy)
    with pytest.raises(ValueError, match="already name another metric"):
        register(dataclasses.replace(accuracy, name="accuracy_again"))
    assert "accuracy_again" not in METRICS
