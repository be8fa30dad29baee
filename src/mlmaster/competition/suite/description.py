"""``description.md`` of a bundled competition, in the shape of a Kaggle competition page."""

from __future__ import annotations

import pandas as pd

from mlmaster.competition.suite.catalog import SuiteCompetition

# What each metric computes and which predictions the grader accepts (it enforces these rules).
_METRIC_TEXT: dict[str, tuple[str, str]] = {
    "log_loss": (
        "binary log loss (cross-entropy) between the predicted probabilities and the true "
        "labels. Predictions are clipped to [1e-15, 1 - 1e-15] before scoring.",
        "Each prediction must be a probability: a number between 0 and 1 inclusive.",
    ),
    "accuracy": (
        "accuracy: the fraction of test rows whose predicted label equals the true label.",
        "Each prediction must be one of the labels {labels}.",
    ),
    "rmse": (
        "root mean squared error between the predicted and the true values.",
        "Each prediction must be a finite number.",
    ),
    "rmsle": (
        "root mean squared logarithmic error: the RMSE between log(1 + prediction) and "
        "log(1 + true value), so relative errors count, not absolute ones.",
        "Each prediction must be a non-negative number; a negative prediction makes the "
        "submission invalid.",
    ),
    "roc_auc": (
        "the area under the ROC curve between the predicted scores and the true labels. Only "
        "the order of the predictions matters.",
        "Each prediction must be a probability: a number between 0 and 1 inclusive.",
    ),
    "f1": (
        "the F1 score of the positive class (1): the harmonic mean of precision and recall "
        "on the rows labelled 1.",
        "Each prediction must be a hard label, 0 or 1 (not a probability).",
    ),
    "qwk": (
        "quadratic weighted kappa, the agreement between predicted and true ratings where a "
        "prediction far from the truth costs more than a near one (1 is perfect agreement, 0 "
        "is chance).",
        "Each prediction must be an integer label among {labels}.",
    ),
    "mae": (
        "mean absolute error between the predicted and the true values.",
        "Each prediction must be a finite number.",
    ),
}


def render_description(
    entry: SuiteCompetition, sample: pd.DataFrame, train_rows: int, test_rows: int
) -> str:
    """The markdown page an agent reads: overview, evaluation, submission format, data."""
    spec = entry.spec
    target = spec.target_columns[0]
    what, rule = _METRIC_TEXT[spec.metric]
    labels = ", ".join(str(label) for label in spec.labels or [])
    direction = "Lower is better." if spec.lower_is_better else "Higher is better."
    example = sample.head(3).to_csv(index=False, lineterminator="\n")
    lines = [
        f"# {spec.name}",
        "",
        "## Overview",
        "",
        entry.overview,
        "",
        "## Evaluation",
        "",
        f"Submissions are scored with {what} {direction}",
        "",
        "The grader enforces these rules; a submission that breaks one is invalid and gets no "
        "score:",
        "",
        f"- {rule.format(labels=labels)}",
        f"- The file has exactly the columns `{spec.id_column},{target}`, one row for every "
        f"`{spec.id_column}` of `test.csv` (any order) and no missing values.",
        "",
        "## Submission File",
        "",
        f"For each `{spec.id_column}` in the test set, predict `{target}`. {entry.target_help} "
        "The file must have a header and look like this:",
        "",
        "```",
        example.rstrip("\n"),
        "...",
        "```",
        "",
        "`sample_submission.csv` is a valid submission in this format holding a naive "
        "baseline; it scores at the bottom of the leaderboard.",
        "",
        "## Data",
        "",
        f"- `train.csv`: {train_rows} rows, the features and the target `{target}`.",
        f"- `test.csv`: {test_rows} rows, the same features without the target.",
        "- `sample_submission.csv`: a submission in the correct format.",
        "",
        f"`{spec.id_column}` is an arbitrary identifier; it carries no information. "
        f"{entry.data_notes}",
        "",
        _source_line(entry),
        "",
    ]
    return "\n".join(lines)


def _source_line(entry: SuiteCompetition) -> str:
    if not entry.synthetic:
        return f"Source: {entry.source}."
    return (
        f"Source: synthetic rows generated from a model fitted to {entry.source}. Feature "
        "distributions are close to, but not the same as, the original's; no row of this "
        "competition is a row of the original."
    )
