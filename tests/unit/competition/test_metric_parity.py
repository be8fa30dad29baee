"""The generated scripts' own metric code agrees with the grader's, metric by metric.

Offline scripts run where mlmaster is not installed, so they carry their own copy of every
metric (``offline/script_body.py``) to print ``VALIDATION_METRIC``. A copy that drifts makes the
search optimise something the grader does not score. Each registered metric needs a case here
(the first test fails otherwise), and each case is checked on many random inputs, edges included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlmaster.competition.metrics import METRICS
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.offline import script_body

SEEDS = range(12)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Inputs:
    """One random draw, in both shapes: the grader's frames and the script's arrays."""

    answers: pd.DataFrame
    submission: pd.DataFrame
    spec: CompetitionSpec
    cfg: dict[str, Any]
    truths: list[np.ndarray]
    preds: list[Any]


def _spec(metric: str, targets: list[str], **extra: Any) -> CompetitionSpec:
    return CompetitionSpec(
        id="parity",
        name="parity",
        metric=metric,
        lower_is_better=METRICS[metric].lower_is_better,
        id_column="id",
        target_columns=targets,
        task_type=METRICS[metric].task_type,
        **extra,
    )


def _columns(
    metric: str,
    truth: dict[str, Any],
    pred: dict[str, Any],
    rng: np.random.Generator,
    **cfg: Any,
) -> Inputs:
    """Per-column truths and predictions; the submission's rows shuffled (matched by id)."""
    n = len(next(iter(truth.values())))
    ids = [f"r{i}" for i in range(n)]
    answers = pd.DataFrame({"id": ids, **truth})
    submission = pd.DataFrame({"id": ids, **pred}).sample(
        frac=1.0, random_state=int(rng.integers(1e6))
    )
    targets = list(truth)
    return Inputs(
        answers=answers,
        submission=submission.reset_index(drop=True),
        spec=_spec(metric, targets, metric_k=cfg.get("metric_k")),
        cfg={"metric": metric, "positive_label": 1, **cfg},
        truths=[np.asarray(truth[c]) for c in targets],
        preds=[np.asarray(pred[c]) for c in targets],
    )


def _probabilities(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform probabilities with exact 0s and 1s mixed in (where clipping matters)."""
    values = rng.uniform(0, 1, n)
    values[rng.uniform(size=n) < 0.05] = 0.0
    values[rng.uniform(size=n) < 0.05] = 1.0
    return values


def _both_classes(rng: np.random.Generator, n: int) -> np.ndarray:
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    return y


def _labels(rng: np.random.Generator, n: int, classes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    truth = rng.integers(0, classes, n)
    guess = np.where(rng.uniform(size=n) < 0.5, truth, rng.integers(0, classes, n))
    return truth, guess


def _values(rng: np.random.Generator, n: int, targets: int) -> tuple[dict, dict]:
    truth = {f"y{j}": rng.normal(5, 3, n) for j in range(targets)}
    pred = {c: v + rng.normal(0, 1, n) for c, v in truth.items()}
    return truth, pred


def _positive_values(rng: np.random.Generator, n: int, targets: int) -> tuple[dict, dict]:
    truth = {f"y{j}": rng.lognormal(1, 1, n) for j in range(targets)}
    pred = {c: np.abs(v * rng.lognormal(0, 0.3, n) - 0.5) for c, v in truth.items()}
    return truth, pred


def _case_accuracy(rng: np.random.Generator, n: int) -> Inputs:
    targets = int(rng.integers(1, 3))
    pairs = [_labels(rng, n) for _ in range(targets)]
    truth = {f"y{j}": t for j, (t, _) in enumerate(pairs)}
    pred = {f"y{j}": g for j, (_, g) in enumerate(pairs)}
    return _columns("accuracy", truth, pred, rng)


def _case_roc_auc(rng: np.random.Generator, n: int) -> Inputs:
    return _columns("roc_auc", {"y": _both_classes(rng, n)}, {"y": _probabilities(rng, n)}, rng)


def _case_roc_auc_multilabel(rng: np.random.Generator, n: int) -> Inputs:
    targets = int(rng.integers(2, 5))
    truth = {f"y{j}": _both_classes(rng, n) for j in range(targets)}
    pred = {f"y{j}": _probabilities(rng, n) for j in range(targets)}
    return _columns("roc_auc_multilabel", truth, pred, rng)


def _case_log_loss(rng: np.random.Generator, n: int) -> Inputs:
    return _columns("log_loss", {"y": _both_classes(rng, n)}, {"y": _probabilities(rng, n)}, rng)


def _case_log_loss_classes(rng: np.random.Generator, n: int) -> Inputs:
    """Multi-class: the grader reads one-hot answers and one column per class; the script
    scores class labels against an (unnormalised) probability matrix."""
    classes = ["a", "b", "c"]
    labels = rng.integers(0, 3, n)
    labels[:3] = [0, 1, 2]
    matrix = rng.uniform(0, 1, (n, 3))
    matrix[rng.uniform(size=(n, 3)) < 0.05] = 0.0
    matrix[0] = 0.0  # an all-zero row reads as uniform
    ids = [f"r{i}" for i in range(n)]
    answers = pd.DataFrame(
        {"id": ids, **{c: (labels == j).astype(int) for j, c in enumerate(classes)}}
    )
    submission = pd.DataFrame({"id": ids, **{c: matrix[:, j] for j, c in enumerate(classes)}})
    return Inputs(
        answers=answers,
        submission=submission.iloc[::-1].reset_index(drop=True),
        spec=_spec("log_loss", classes),
        cfg={"metric": "log_loss", "classes": classes, "positive_label": 1},
        truths=[np.asarray(classes, dtype=object)[labels]],
        preds=[matrix],
    )


def _regression(metric: str, draw: Callable[..., tuple[dict, dict]]) -> Callable[..., Inputs]:
    def case(rng: np.random.Generator, n: int) -> Inputs:
        truth, pred = draw(rng, n, int(rng.integers(1, 4)))
        return _columns(metric, truth, pred, rng)

    case.__name__ = f"_case_{metric}"
    return case


def _case_f1(rng: np.random.Generator, n: int) -> Inputs:
    truth = _both_classes(rng, n)
    guess = np.where(rng.uniform(size=n) < 0.6, truth, 1 - truth)
    return _columns("f1", {"y": truth}, {"y": guess}, rng)


def _label_case(metric: str) -> Callable[..., Inputs]:
    def case(rng: np.random.Generator, n: int) -> Inputs:
        truth, guess = _labels(rng, n)
        return _columns(metric, {"y": truth}, {"y": guess}, rng)

    case.__name__ = f"_case_{metric}"
    return case


def _case_qwk(rng: np.random.Generator, n: int) -> Inputs:
    truth = rng.integers(1, 6, n)
    guess = np.clip(truth + rng.integers(-2, 3, n), 1, 5)
    return _columns("qwk", {"y": truth}, {"y": guess}, rng)


def _case_map_at_k(rng: np.random.Generator, n: int) -> Inputs:
    """One true item per row; the script ranks lists, the grader reads space-separated text."""
    k = int(rng.integers(1, 6))
    items = [f"i{v}" for v in range(8)]
    truth = rng.choice(items, n)
    ranked = [list(rng.choice(items, k, replace=False)) for _ in range(n)]
    inputs = _columns(
        "map_at_k", {"y": truth}, {"y": [" ".join(r) for r in ranked]}, rng, metric_k=k
    )
    return Inputs(**{**inputs.__dict__, "preds": [ranked]})


CASES: dict[str, list[Callable[[np.random.Generator, int], Inputs]]] = {
    "accuracy": [_case_accuracy],
    "roc_auc": [_case_roc_auc],
    "roc_auc_multilabel": [_case_roc_auc_multilabel],
    "log_loss": [_case_log_loss, _case_log_loss_classes],
    "rmse": [_regression("rmse", _values)],
    "rmsle": [_regression("rmsle", _positive_values)],
    "mae": [_regression("mae", _values)],
    "mse": [_regression("mse", _values)],
    "r2": [_regression("r2", _values)],
    "f1": [_case_f1],
    "f1_macro": [_label_case("f1_macro")],
    "f1_micro": [_label_case("f1_micro")],
    "qwk": [_case_qwk],
    "map_at_k": [_case_map_at_k],
}


def test_every_registered_metric_has_a_parity_case() -> None:
    assert set(CASES) == set(METRICS), "a metric was registered without a parity case here"


@pytest.mark.parametrize(
    "make", [make for cases in CASES.values() for make in cases], ids=lambda f: f.__name__
)
def test_script_metric_code_agrees_with_the_grader(make: Callable[..., Inputs]) -> None:
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        inputs = make(rng, int(rng.integers(8, 80)))
        graded = METRICS[inputs.spec.metric].score(inputs.answers, inputs.submission, inputs.spec)
        printed = script_body.competition_score(inputs.cfg, inputs.truths, inputs.preds)
        assert printed == pytest.approx(graded, abs=TOLERANCE, rel=TOLERANCE), (
            f"{inputs.spec.metric}, seed {seed}: script {printed!r}, grader {graded!r}"
        )
