"""A competition spec read off a bare public folder, as MLE-bench mounts it at ``/home/data``.

Inside MLE-bench's container the agent sees only ``prepared/public``: data files, a sample
submission and ``description.md``; no ``competition.json``, no ``config.yaml``, no answers.
:func:`infer_spec` recovers what a run needs from those files alone:

* the sample submission: :func:`mlmaster.competition.sample.find_sample` (any usual name, a
  pattern, inside an archive, or none);
* the id column and target columns: the sample submission's header (first column, the rest),
  else a header line the description's submission section shows, else unknown;
* the metric: the first metric the description's evaluation section names (keyword table);
* the direction: that metric's, from :mod:`mlmaster.competition.metrics`;
* the task type: from the metric, the sample submission and the training target;
* the labels: the training target's classes, when they are integers.

A ``competition.json`` in the folder, when present, wins over all of this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from mlmaster.competition.metrics import METRICS, metric_phrases, metrics_of_task
from mlmaster.competition.sample import SampleSubmission, find_sample
from mlmaster.competition.spec import CompetitionSpec, TaskType
from mlmaster.errors import UserError
from mlmaster.logs import get_logger

log = get_logger(__name__)

SPEC_FILE = "competition.json"
DESCRIPTION_FILE = "description.md"
# Rows of the training target read to judge its values: plenty to see every class of a real
# competition, and a bounded read on multi-GB tables (the taxi-fare train is 55M rows).
TARGET_ROWS = 1_000_000
# Above this many distinct integer values a target is a quantity, not a set of labels.
MAX_LABELS = 100

# Phrases naming each metric (from the metric registry). A description is searched for all of
# them; the earliest match wins, and at one position the longest.
_METRIC_PHRASES: dict[str, tuple[str, ...]] = metric_phrases()
_COMPILED = [
    (metric, re.compile(phrase, re.IGNORECASE))
    for metric, phrases in _METRIC_PHRASES.items()
    for phrase in phrases
]
_MAP_K = re.compile(r"\bmap\s*@\s*(\d+)", re.IGNORECASE)
_EVALUATION_HEADING = re.compile(r"^#+\s*.*\b(evaluation|metric|scoring)\b.*$", re.I | re.M)
_ANY_HEADING = re.compile(r"^#+\s", re.M)
_HEADING = re.compile(r"^#{1,2}\s+(.+?)\s*#*\s*$", re.M)
# Kaggle descriptions end with a citation: "Authors. (2017). Competition Name. Kaggle. https://..."
_CITATION = re.compile(r"\(\d{4}\)\.\s+(.+?)\.\s+Kaggle\.")
# Section headings MLE-bench's descriptions start with; never a competition's name.
_GENERIC_HEADINGS = {"overview", "description", "data", "dataset description", "evaluation"}

_REGRESSION_METRICS = metrics_of_task("regression")


@dataclass(frozen=True)
class _Target:
    """What the training table says about the (single) target column, when it has it."""

    distinct: list[int | float | str]  # sorted distinct values (empty when unknown)
    integral: bool  # every value is a whole number


def infer_spec(
    public_dir: Path,
    competition_id: str,
    *,
    metric: str | None = None,
    lower_is_better: bool | None = None,
) -> CompetitionSpec:
    """The spec of the competition whose public files are in ``public_dir``.

    ``metric`` and ``lower_is_better``, when given (a setting, a config, the model's reading),
    replace the keyword rules' choice; the task type and labels follow from the metric.

    ``public_dir/competition.json`` is used as is when present. Otherwise the spec is inferred
    from the sample submission, ``description.md`` and the training table; a ``UserError``
    says what is missing when that cannot be done.
    """
    if not public_dir.is_dir():
        raise UserError(
            f"the public folder {public_dir} does not exist; pass the folder holding the "
            "competition's public files (MLE-bench mounts it at /home/data)"
        )
    if (public_dir / SPEC_FILE).is_file():
        return _read_spec(public_dir / SPEC_FILE, competition_id)

    sample = find_sample(public_dir)
    description = _read_description(public_dir)
    columns = _submission_columns(sample, description)
    id_column, targets = (columns[0], columns[1:]) if columns else (GUESSED_ID, [])
    train_file = "train.csv" if (public_dir / "train.csv").is_file() else None
    test_file = "test.csv" if (public_dir / "test.csv").is_file() else None
    target = _training_target(public_dir / train_file, targets) if train_file else None

    if metric is None:
        metric, metric_k = _metric(description, targets, target, public_dir, sample)
    else:
        if metric not in METRICS:
            raise UserError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
        metric_k = _map_k(description, public_dir, sample) if metric == "map_at_k" else None
    task = _task_type(metric, targets, target)
    labels = _labels(metric, target)
    spec = CompetitionSpec(
        id=competition_id,
        name=_title(description) or competition_id,
        metric=metric,
        lower_is_better=(
            METRICS[metric].lower_is_better if lower_is_better is None else lower_is_better
        ),
        id_column=id_column,
        target_columns=targets,
        task_type=task,
        train_file=train_file,
        test_file=test_file,
        sample_submission_file=sample.file,
        sample_submission_member=sample.member,
        labels=labels,
        metric_k=metric_k,
        positive_label=_positive_label(labels),
    )
    log.info(
        "competition spec inferred",
        competition=competition_id,
        metric=metric,
        task_type=task,
        id_column=id_column,
        targets=targets,
    )
    return spec


def _submission_columns(sample: SampleSubmission, description: str) -> list[str] | None:
    """The submission's header: the sample's, else one the description shows, else unknown."""
    if sample.columns is not None:
        if len(sample.columns) < 2:
            raise UserError(
                f"the sample submission {sample.file} has {len(sample.columns)} column(s); a "
                "sample submission needs an id column followed by at least one target column"
            )
        return sample.columns
    if found := _header_in_description(description):
        log.info("submission columns taken from the description", columns=found)
        return found
    log.warning("submission columns unknown: no readable sample submission, none described")
    return None


# A CSV header line as Kaggle descriptions show one under "Submission File": ``id,is_iceberg``.
_HEADER_LINE = re.compile(r"^[ \t`]*([A-Za-z_][\w.]*(?:,[ ]?[A-Za-z_][\w.]*)+)[ \t`]*$", re.M)
_SUBMISSION_WORD = re.compile(r"submission", re.I)
GUESSED_ID = "id"  # the id column's name when nothing shows it


def _header_in_description(description: str) -> list[str] | None:
    """The first header-like line after the description first mentions a submission."""
    mention = _SUBMISSION_WORD.search(description)
    if mention is None:
        return None
    match = _HEADER_LINE.search(description, mention.start())
    if match is None:
        return None
    return [name.strip() for name in match.group(1).split(",")]


def metric_from_description(text: str) -> str | None:
    """The metric the description grades by, or ``None`` when it names none we know.

    The evaluation section (a heading with "Evaluation", "Metric" or "Scoring") is searched
    first, then the whole text; the earliest phrase found decides.
    """
    for part in (_evaluation_section(text), text):
        if part and (found := _earliest_metric(part)):
            return found
    return None


def _earliest_metric(text: str) -> str | None:
    best: tuple[int, int, str] | None = None
    for metric, pattern in _COMPILED:
        match = pattern.search(text)
        if match is None:
            continue
        key = (match.start(), -(match.end() - match.start()), metric)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def _evaluation_section(text: str) -> str:
    heading = _EVALUATION_HEADING.search(text)
    if heading is None:
        return ""
    rest = text[heading.end() :]
    following = _ANY_HEADING.search(rest)
    return rest[: following.start()] if following else rest


def _metric(
    description: str,
    targets: list[str],
    target: _Target | None,
    public_dir: Path,
    sample: SampleSubmission,
) -> tuple[str, int | None]:
    """The metric key and, for MAP@K, its K."""
    found = metric_from_description(description)
    if found is None:
        found = _fallback_metric(targets, target)
        log.warning(
            "no known metric named in the description; guessed from the data",
            metric=found,
            known=sorted(_METRIC_PHRASES),
        )
    if found == "roc_auc" and len(targets) > 1:
        found = "roc_auc_multilabel"  # MLE-bench's "mean column-wise ROC AUC"
    if found == "f1" and target is not None and len(target.distinct) > 2:
        found = "f1_macro"  # binary F1 needs two classes; several classes average per class
    metric_k = _map_k(description, public_dir, sample) if found == "map_at_k" else None
    return found, metric_k


def _fallback_metric(targets: list[str], target: _Target | None) -> str:
    """A metric for a description that names none: labels → accuracy, numbers → RMSE."""
    if target is not None and target.distinct and not target.integral:
        return "rmse"
    if target is not None and 0 < len(target.distinct) <= MAX_LABELS:
        return "accuracy"
    return "rmse" if len(targets) == 1 else "log_loss"


def _map_k(description: str, public_dir: Path, sample: SampleSubmission) -> int:
    """K of MAP@K: written in the description, else the sample's number of ranked items."""
    if match := _MAP_K.search(description):
        return int(match.group(1))
    if sample.file is not None and not sample.in_archive:
        try:
            first = pd.read_csv(public_dir / sample.file, nrows=1)
        except (OSError, ValueError, UnicodeDecodeError):
            return 5
        if len(first.columns) > 1 and len(first):
            return max(1, len(str(first.iloc[0, 1]).split()))
    return 5


def _task_type(metric: str, targets: list[str], target: _Target | None) -> TaskType:
    # The metric's own task type decides, except between the classification kinds, which the
    # submission's columns and the training target tell apart.
    declared = METRICS[metric].task_type
    if declared in ("ordinal", "regression", "other", "multilabel"):
        return declared
    if len(targets) > 1:
        # Several probability or label columns: one column per class (log loss, one-hot) or
        # independent labels.
        return "multiclass" if metric == "log_loss" else "multilabel"
    if metric in ("roc_auc", "f1"):
        return "binary"
    if target is not None and target.distinct:
        return "binary" if len(target.distinct) <= 2 else "multiclass"
    return "binary" if metric == "log_loss" else "multiclass"


def _labels(metric: str, target: _Target | None) -> list[int | str] | None:
    """A classification target's integer classes, read off the training target.

    Label metrics check submissions against them; probability metrics use them as the classes.
    """
    if metric in _REGRESSION_METRICS or metric == "map_at_k":
        return None
    if target is None or not target.integral or not 0 < len(target.distinct) <= MAX_LABELS:
        return None
    return [int(v) for v in target.distinct]


def _positive_label(labels: list[int | str] | None) -> int | str:
    """Binary F1's positive class: 1 when the labels are 0/1 or unknown, else the larger."""
    if labels and len(labels) == 2 and 1 not in labels:
        return max(int(v) for v in labels)
    return 1


def _training_target(train: Path, targets: list[str]) -> _Target | None:
    """The single target column of the training table, if it has one by that name."""
    if len(targets) != 1:
        return None
    try:
        # Only the header: the training table may have any shape (even one column).
        header = [str(c) for c in pd.read_csv(train, nrows=0).columns]
        if targets[0] not in header:
            return None
        values = pd.read_csv(train, usecols=[targets[0]], nrows=TARGET_ROWS)[targets[0]]
    except (OSError, ValueError, UnicodeDecodeError) as error:
        log.warning(
            "training table unreadable; target not profiled", file=str(train), error=str(error)
        )
        return None
    values = values.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return _Target(distinct=sorted({str(v) for v in values.unique()}), integral=False)
    numbers = values.to_numpy(dtype=float)
    integral = bool(np.all(np.mod(numbers, 1) == 0))
    distinct = np.unique(numbers)
    if integral:
        return _Target(distinct=[int(v) for v in distinct[: MAX_LABELS + 1]], integral=True)
    # A real-valued target: its values say regression; keep just a marker, not millions of them.
    return _Target(distinct=[float(v) for v in distinct[:3]], integral=False)


def _read_description(public_dir: Path) -> str:
    path = public_dir / DESCRIPTION_FILE
    if not path.is_file():
        log.warning("no description.md in the public folder; the metric is guessed from data")
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _title(description: str) -> str | None:
    """The competition's name: from Kaggle's citation line, else the first specific heading."""
    if citation := _CITATION.search(description):
        return citation.group(1).strip()
    for heading in _HEADING.finditer(description):
        text = heading.group(1).strip()
        if text.lower() not in _GENERIC_HEADINGS:
            return text
    return None


def _read_spec(path: Path, competition_id: str) -> CompetitionSpec:
    try:
        spec = CompetitionSpec.model_validate_json(path.read_bytes())
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()
        )
        raise UserError(f"{path} is not a valid competition spec: {problems}") from None
    if spec.id != competition_id:
        raise UserError(
            f"{path} declares competition {spec.id!r}, but the run is for {competition_id!r}; "
            "pass the matching competition id"
        )
    if spec.metric not in METRICS:
        raise UserError(
            f"{path}: unknown metric {spec.metric!r}; known: {', '.join(sorted(METRICS))}"
        )
    return spec
