"""Tiny competitions in MLE-bench's layout, written into a temporary data dir per test.

Each task type gets a competition.json, public/sample_submission.csv (a naive baseline),
private/answers.csv and a leaderboard.csv whose 30 rows run evenly from a perfect score down to
the baseline's, so the answers win gold and the sample submission wins nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mlmaster.competition.metrics import METRICS
from mlmaster.competition.spec import CompetitionSpec

ROWS = 40


@dataclass(frozen=True)
class Task:
    """How to make one tiny competition: its spec facts, answers and naive baseline."""

    metric: str
    task_type: str
    targets: list[str]
    answers: Callable[[np.random.Generator], pd.DataFrame]
    baseline: Callable[[pd.DataFrame], pd.DataFrame]
    labels: list[int | str] | None = None
    metric_k: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _binary(rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({"target": np.tile([0, 1], ROWS // 2)[rng.permutation(ROWS)]})


def _constant(value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda answers: pd.DataFrame({c: [value] * len(answers) for c in answers.columns})


def _mean(answers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: [float(answers[c].mean())] * len(answers) for c in answers.columns})


def _mode(answers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: [answers[c].mode().iloc[0]] * len(answers) for c in answers.columns})


def _one_hot(rng: np.random.Generator) -> pd.DataFrame:
    classes = np.arange(ROWS) % 3
    rng.shuffle(classes)
    return pd.DataFrame({name: (classes == i).astype(int) for i, name in enumerate("abc")})


def _positive(rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({"price": np.round(rng.lognormal(3, 1, ROWS), 3)})


TASKS: dict[str, Task] = {
    "auc": Task("roc_auc", "binary", ["target"], _binary, _constant(0.5)),
    "logloss": Task("log_loss", "binary", ["target"], _binary, _mean),
    "logloss-multi": Task(
        "log_loss", "multiclass", ["a", "b", "c"], _one_hot, lambda a: _mean(a).round(6)
    ),
    "auc-multilabel": Task(
        "roc_auc_multilabel",
        "multilabel",
        ["x", "y"],
        lambda rng: pd.concat(
            [
                _binary(rng).rename(columns={"target": "x"}),
                _binary(rng).rename(columns={"target": "y"}),
            ],
            axis=1,
        ),
        _constant(0.5),
    ),
    "accuracy": Task(
        "accuracy",
        "multiclass",
        ["label"],
        lambda rng: pd.DataFrame(
            {"label": rng.choice(["cat", "dog", "owl"], ROWS, p=[0.5, 0.3, 0.2])}
        ),
        _mode,
    ),
    "rmse": Task(
        "rmse",
        "regression",
        ["y"],
        lambda rng: pd.DataFrame({"y": rng.normal(50, 10, ROWS)}),
        _mean,
    ),
    "rmsle": Task("rmsle", "regression", ["price"], _positive, _mean),
    "mae": Task("mae", "regression", ["price"], _positive, _mean),
    "f1": Task(
        "f1",
        "binary",
        ["churn"],
        lambda rng: _binary(rng).rename(columns={"target": "churn"}),
        _constant(0),
    ),
    "f1-macro": Task(
        "f1_macro",
        "multiclass",
        ["kind"],
        lambda rng: pd.DataFrame({"kind": rng.integers(0, 3, ROWS)}),
        _mode,
    ),
    "qwk": Task(
        "qwk",
        "ordinal",
        ["y"],
        lambda rng: pd.DataFrame({"y": rng.integers(1, 6, ROWS)}),
        _mode,
        labels=[1, 2, 3, 4, 5],
    ),
    "map": Task(
        "map_at_k",
        "other",
        ["items"],
        lambda rng: pd.DataFrame({"items": [f"i{v}" for v in rng.integers(0, 8, ROWS)]}),
        _constant("i0 i1 i7"),
        metric_k=3,
    ),
}


def write_competition(data_dir: Path, name: str, seed: int = 0) -> Path:
    """Write the competition ``name`` (a key of TASKS) under ``data_dir``; returns its root."""
    task = TASKS[name]
    rng = np.random.default_rng(seed)
    root = data_dir / name
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    ids = [f"r{i:03d}" for i in rng.permutation(ROWS) + 100]
    targets = task.answers(rng)
    answers = pd.concat([pd.DataFrame({"id": ids}), targets], axis=1)
    sample = pd.concat([pd.DataFrame({"id": ids}), task.baseline(targets)], axis=1)
    answers.to_csv(private / "answers.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(f"# {name}\n\nA tiny test competition.\n")
    spec = CompetitionSpec(
        id=name,
        name=f"Tiny {name}",
        metric=task.metric,
        lower_is_better=METRICS[task.metric].lower_is_better,
        id_column="id",
        target_columns=task.targets,
        task_type=task.task_type,  # type: ignore[arg-type]
        labels=task.labels,
        metric_k=task.metric_k,
    )
    (root / "competition.json").write_text(spec.model_dump_json(indent=2))
    metric = METRICS[task.metric]
    best = metric.score(answers, answers, spec)
    worst = metric.score(answers, sample, spec)
    scores = np.linspace(best, worst, 30)
    pd.DataFrame({"teamId": range(30), "score": scores}).to_csv(
        root / "leaderboard.csv", index=False
    )
    return root


def spec_of(root: Path) -> dict[str, object]:
    return json.loads((root / "competition.json").read_text())
