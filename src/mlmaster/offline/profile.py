"""What the offline coder learns from a competition's public files before writing a script.

The profile answers the questions an engineer asks on opening the data: which file is train and
which is test, what the submission looks like (id column, prediction columns, probabilities or
labels), and what each feature column holds (numbers, categories, free text, dates).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel

from mlmaster.competition.metrics import metrics_scoring
from mlmaster.competition.spec import CompetitionSpec, TaskType

Output = Literal["proba", "label", "value", "ranking"]

# Metrics scored on probabilities, on ranked label lists, or on hard labels.
PROBA_METRICS = metrics_scoring("probabilities")
RANKING_METRICS = metrics_scoring("ranking")
LABEL_METRICS = metrics_scoring("labels")

# Rows read to classify columns: enough to see their nature, cheap on large tables.
PROFILE_ROWS = 20_000
TEXT_MIN_MEAN_LENGTH = 30  # characters; shorter strings are categories
TEXT_MIN_UNIQUE_SHARE = 0.3
DATE_MIN_PARSED_SHARE = 0.9
HIGH_CARDINALITY = 50  # levels above which a column is worth target-encoding
# Integer columns are codes, not quantities, when their name says so (a count of square feet
# has many levels too, but its order means something).
ID_LIKE_TOKENS = {
    "id", "code", "key", "student", "lecturer", "teacher", "user", "customer", "client",
    "item", "product", "store", "shop", "zip", "postcode", "flight", "tail", "tailnum",
}  # fmt: skip


class ColumnKinds(BaseModel):
    numeric: list[str] = []
    categorical: list[str] = []
    text: list[str] = []
    date: list[str] = []
    high_cardinality: list[str] = []  # numeric codes or categories with many levels


class DataProfile(BaseModel):
    """The facts a recipe and its script need, read from the public files and the spec."""

    modelable: bool
    reason: str = ""  # why not, when not modelable
    train_file: str | None = None
    test_file: str | None = None
    sample_file: str = "sample_submission.csv"
    id_column: str
    target_columns: list[str]
    submission_columns: list[str] = []
    task: TaskType
    metric: str
    lower_is_better: bool
    metric_k: int | None = None
    output: Output
    class_columns: bool = False  # one probability column per class in the submission
    classes: list[int | str] | None = None
    labels: list[int | str] | None = None
    positive_label: int | str | None = None
    negative_label: int | str | None = None
    non_negative: bool = False  # every training target >= 0 (a log target is possible)
    n_train: int = 0
    n_test: int = 0
    columns: ColumnKinds = ColumnKinds()

    @property
    def n_features(self) -> int:
        c = self.columns
        return len(c.numeric) + len(c.categorical) + len(c.text) + len(c.date)

    def describe(self) -> str:
        c = self.columns
        parts = [
            f"{len(c.numeric)} numeric",
            f"{len(c.categorical)} categorical",
            f"{len(c.text)} text",
            f"{len(c.date)} date",
        ]
        return f"{self.n_train} training rows; " + ", ".join(parts) + " columns"


def output_kind(spec: CompetitionSpec) -> Output:
    if spec.metric in PROBA_METRICS:
        return "proba"
    if spec.metric in RANKING_METRICS:
        return "ranking"
    if spec.metric in LABEL_METRICS or spec.task_type in ("multiclass", "ordinal"):
        return "label"
    return "value"


def classify_column(values: pd.Series) -> str:
    """numeric, categorical, text or date, from a column's values."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "numeric"
    present = values.dropna().astype(str)
    if present.empty:
        return "categorical"
    lengths = present.str.len()
    if (
        lengths.mean() >= TEXT_MIN_MEAN_LENGTH
        and present.nunique() >= TEXT_MIN_UNIQUE_SHARE * len(present)
        and present.str.contains(" ").mean() > 0.5
    ):
        return "text"
    if present.str.contains(r"\d[-/:]\d", regex=True).mean() > DATE_MIN_PARSED_SHARE:
        parsed = pd.to_datetime(present.head(500), errors="coerce", format="mixed")
        if parsed.notna().mean() >= DATE_MIN_PARSED_SHARE:
            return "date"
    return "categorical"


def classify_columns(train: pd.DataFrame, test: pd.DataFrame, skip: set[str]) -> ColumnKinds:
    kinds = ColumnKinds()
    for name in train.columns:
        if name in skip or name not in test.columns:
            continue
        column = train[name]
        if column.nunique(dropna=True) <= 1:
            continue  # constant: nothing to learn
        kind = classify_column(column)
        getattr(kinds, kind).append(name)
        integer_codes = (
            kind == "numeric"
            and pd.api.types.is_integer_dtype(column)
            and bool(ID_LIKE_TOKENS & set(re.split(r"[^a-z0-9]+", name.lower())))
        )
        if (integer_codes or kind == "categorical") and column.nunique() > HIGH_CARDINALITY:
            kinds.high_cardinality.append(name)
    return kinds


def find_train_file(public_dir: Path, spec: CompetitionSpec) -> str | None:
    if spec.train_file and (public_dir / spec.train_file).is_file():
        return spec.train_file
    return "train.csv" if (public_dir / "train.csv").is_file() else None


def find_test_file(public_dir: Path, spec: CompetitionSpec) -> str | None:
    if spec.test_file and (public_dir / spec.test_file).is_file():
        return spec.test_file
    return "test.csv" if (public_dir / "test.csv").is_file() else None


def not_modelable(spec: CompetitionSpec, sample: list[str], reason: str) -> DataProfile:
    return DataProfile(
        modelable=False,
        reason=reason,
        id_column=spec.id_column,
        target_columns=spec.target_columns,
        submission_columns=sample,
        task=spec.task_type,
        metric=spec.metric,
        lower_is_better=spec.lower_is_better,
        output=output_kind(spec),
    )


def profile_competition(spec: CompetitionSpec, public_dir: Path) -> DataProfile:
    """Read the public files (only the first rows where the table is large) into a profile."""
    key = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(public_dir.glob("*.csv")))
    # Keyed by the spec's JSON (its lists make it unhashable) and the files' change times.
    return _cached_profile(spec.model_dump_json(), public_dir.resolve(), key)


@functools.lru_cache(maxsize=32)
def _cached_profile(
    spec_json: str, public_dir: Path, _files: tuple[tuple[str, int], ...]
) -> DataProfile:
    spec = CompetitionSpec.model_validate_json(spec_json)
    sample_file, sample_columns = read_sample_columns(spec, public_dir)
    if spec.task_type == "other":
        return not_modelable(spec, sample_columns, f"task type of {spec.id} is 'other'")
    if not sample_columns:
        return not_modelable(spec, sample_columns, "no readable sample submission")
    train_file, test_file = find_train_file(public_dir, spec), find_test_file(public_dir, spec)
    if train_file is None or test_file is None:
        return not_modelable(spec, sample_columns, "no train.csv / test.csv tables")
    train_head = pd.read_csv(public_dir / train_file, nrows=PROFILE_ROWS, low_memory=False)
    test_head = pd.read_csv(public_dir / test_file, nrows=PROFILE_ROWS, low_memory=False)
    missing = [c for c in spec.target_columns if c not in train_head.columns]
    if missing:
        label = label_column(spec, sample_columns, train_head, test_head)
        if label is None:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            return not_modelable(spec, sample_columns, f"{train_file} lacks the targets {shown}")
        # One label column in train, one probability column per class in the submission.
        spec = spec.model_copy(update={"target_columns": [label], "task_type": "multiclass"})
    skip = {spec.id_column, *spec.target_columns}
    kinds = classify_columns(train_head, test_head, skip)
    profile = DataProfile(
        modelable=True,
        train_file=train_file,
        test_file=test_file,
        sample_file=sample_file,
        id_column=spec.id_column,
        target_columns=spec.target_columns,
        submission_columns=sample_columns,
        task=spec.task_type,
        metric=spec.metric,
        lower_is_better=spec.lower_is_better,
        metric_k=spec.metric_k,
        output=output_kind(spec),
        labels=spec.labels,
        n_train=_count_rows(public_dir / train_file),
        n_test=_count_rows(public_dir / test_file),
        columns=kinds,
    )
    if profile.n_features == 0:
        return not_modelable(spec, sample_columns, "no tabular or text feature columns")
    return _with_targets(profile, spec, train_head)


def read_sample_columns(spec: CompetitionSpec, public_dir: Path) -> tuple[str, list[str]]:
    """(file, header) of the sample submission a modelling script can read with pandas.

    A plain CSV, or a zip or gzip holding just that CSV; ``(file, [])`` when there is none or
    it is out of pandas' reach (a 7z archive, a zip of several files).
    """
    name = spec.sample_submission_file
    if name is None or not (public_dir / name).is_file() or name.lower().endswith(".7z"):
        return name or "", []
    try:
        return name, [str(c) for c in pd.read_csv(public_dir / name, nrows=5).columns]
    except (OSError, ValueError, UnicodeDecodeError):
        return name, []


def label_text(value: object) -> str:
    """A label as a column name spells it: 3.0 and 3 -> "3", "cat" -> "cat"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def label_column(
    spec: CompetitionSpec, sample: list[str], train: pd.DataFrame, test: pd.DataFrame
) -> str | None:
    """The training column whose values name the submission's probability columns.

    MLE-bench's multi-class log-loss competitions often give train one label column (say
    ``author`` = EAP, HPL or MWS) and the submission one probability column per class (``EAP``,
    ``HPL``, ``MWS``). The label column is absent from test and every value it takes is one of
    those column names (a small training table may lack some classes).
    """
    predicted = {c for c in sample if c != spec.id_column}
    if len(predicted) < 2:
        return None
    best, best_levels = None, 1
    for name in train.columns:
        if name in test.columns or name == spec.id_column:
            continue
        values = set(train[name].dropna().map(label_text))
        if values <= predicted and len(values) > best_levels:
            best, best_levels = name, len(values)
    return best


def _with_targets(profile: DataProfile, spec: CompetitionSpec, train: pd.DataFrame) -> DataProfile:
    """Classes, positive label and sign of the target, from the training head."""
    target = train[spec.target_columns[0]].dropna()
    update: dict[str, object] = {}
    if spec.task_type in ("regression", "ordinal"):
        update["non_negative"] = bool((train[spec.target_columns].min() >= 0).all())
    if spec.task_type in ("binary", "multiclass", "multilabel"):
        classes = sorted(target.unique().tolist(), key=str)
        predicted = [c for c in profile.submission_columns if c != spec.id_column]
        named = {label_text(c) for c in classes}
        per_class = spec.task_type != "multilabel" and len(predicted) > 1
        if per_class and named < set(predicted):
            # Some classes never occur in train: the submission's columns are the classes.
            classes = predicted
        update["classes"] = classes
        update["class_columns"] = per_class and set(predicted) <= {label_text(c) for c in classes}
        if len(classes) == 2:
            update["negative_label"], update["positive_label"] = classes
            # The spec may name the positive class (binary F1); trust it when train has it.
            declared = getattr(spec, "positive_label", None)
            if declared is not None and str(declared) in {str(c) for c in classes}:
                positive = next(c for c in classes if str(c) == str(declared))
                update["positive_label"] = positive
                update["negative_label"] = next(c for c in classes if c != positive)
    return profile.model_copy(update=update)


def _count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)
