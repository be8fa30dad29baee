"""``description.md`` of a bundled competition, in the shape of a Kaggle competition page.

The Evaluation section is written from the metric's registry record (title, definition,
direction, range, what its predictions must be), so a new metric needs no edit here.
"""

from __future__ import annotations

import math

import pandas as pd

from mlmaster.competition.metrics import Domain, Metric, get_metric
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.competition.suite.catalog import SuiteCompetition

# What the grader accepts as one prediction, per domain of the metric (it enforces these rules).
# {one_of_labels}, {among_labels} and {k} are filled from the competition's spec.
_RULES: dict[Domain, str] = {
    "probability": "Each prediction must be a probability: a number between 0 and 1 inclusive.",
    "label": "Each prediction must be {one_of_labels} (a hard label, not a probability).",
    "integer_label": "Each prediction must be an integer label{among_labels}.",
    "non_negative": "Each prediction must be a non-negative number; a negative prediction makes "
    "the submission invalid.",
    "real": "Each prediction must be a finite number.",
    "ranking": "Each prediction must be at most {k} space-separated items, the likeliest first.",
}


def evaluation_lines(spec: CompetitionSpec) -> list[str]:
    """The Evaluation section's text, every fact from the metric's registry record.

    The metric's title comes first, so a reader (and :func:`metric_from_description`) finds it
    named before anything else; then what it computes, on which predictions, its direction and
    its range, and the rule each prediction must meet.
    """
    metric = get_metric(spec.metric)
    labels = ", ".join(str(label) for label in spec.labels or [])
    direction = "Lower is better." if metric.lower_is_better else "Higher is better."
    rule = _RULES[metric.domain].format(
        one_of_labels=f"one of the labels {labels}" if labels else "a label as `train.csv` has it",
        among_labels=f" among {labels}" if labels else "",
        k=spec.metric_k or "K",
    )
    scored = f"Submissions are scored by {metric.title} on the predicted {metric.predictions}: "
    return [
        " ".join(
            part for part in (f"{scored}{metric.about}.", direction, _score_range(metric)) if part
        ),
        "",
        "The grader enforces these rules; a submission that breaks one is invalid and gets no "
        "score:",
        "",
        f"- {rule}",
    ]


def _score_range(metric: Metric) -> str:
    """E.g. "Scores lie between 0 and 1; 1 is the best possible.", from the metric's bounds."""
    low, high = metric.bounds
    best = low if metric.lower_is_better else high
    if math.isfinite(low) and math.isfinite(high):
        text = f"Scores lie between {low:g} and {high:g}"
    elif math.isfinite(low):
        text = f"Scores are {low:g} or more"
    elif math.isfinite(high):
        text = f"Scores are at most {high:g}"
    else:
        return ""
    return f"{text}; {best:g} is the best possible." if math.isfinite(best) else f"{text}."


def render_description(
    entry: SuiteCompetition, sample: pd.DataFrame, train_rows: int, test_rows: int
) -> str:
    """The markdown page an agent reads: overview, evaluation, submission format, data."""
    spec = entry.spec
    target = spec.target_columns[0]
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
        *evaluation_lines(spec),
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
