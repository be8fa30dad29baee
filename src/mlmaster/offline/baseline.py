"""What the offline coder submits for data it cannot model: the sample's format, filled with priors.

Images, audio, text without a table, or no training table at all: the offline coder has no
model for these, but a run must still end with a valid submission. The baseline script
(:mod:`mlmaster.offline.baseline_body`) copies the sample submission cell for cell and fills
the prediction columns it knows a prior for, read here from the training labels:

- a numeric prediction column that a training table also has: its most frequent value (the
  metric wants labels), its mean (probabilities, and values scored by squared error) or its
  median (other values);
- one probability column per class, when a training table's label column names those classes
  (``labels.csv`` with a ``breed`` column for a sample with one column per breed): each class's
  frequency.

Every other column keeps the sample's values, which are valid by definition. Without a sample
submission the script starts from the test table's ids.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.logs import get_logger
from mlmaster.offline.profile import label_text, output_kind

log = get_logger(__name__)

BASELINE_MARKER = "# mlmaster-offline-baseline"
PRIOR_ROWS = 200_000  # training rows read for a prior: plenty for a constant
_TRAINING_NAME = re.compile(r"train|label", re.IGNORECASE)
_TABLE_SUFFIXES = (".csv", ".csv.zip", ".csv.gz")
_SQUARED_ERROR = {"rmse", "mse", "r2"}

Value = float | int | str


class BaselinePlan(BaseModel):
    """What the baseline script reads (its ``CONFIG``) and why, for the plan's words."""

    sample_file: str | None
    sample_member: str | None = None
    test_file: str | None = None
    id_column: str
    target_columns: list[str]
    fills: dict[str, Value] = {}  # prediction column -> the constant it gets
    sources: dict[str, str] = {}  # prediction column -> where its prior came from

    def describe(self) -> str:
        start = (
            f"copies {self.sample_file}"
            if self.sample_file
            else "writes one row per test id (there is no sample submission)"
        )
        if not self.fills:
            return f"{start} as it is"
        shown = ", ".join(f"{c} = {v} ({self.sources[c]})" for c, v in self.fills.items())
        return f"{start} with priors from the training labels: {_shorten(shown)}"


def plan_baseline(spec: CompetitionSpec, public_dir: Path) -> BaselinePlan:
    """The baseline for ``spec``'s public folder: where the sample is and the priors to fill."""
    plan = BaselinePlan(
        sample_file=spec.sample_submission_file
        if spec.sample_submission_file and (public_dir / spec.sample_submission_file).is_file()
        else None,
        sample_member=spec.sample_submission_member,
        test_file=_test_table(spec, public_dir),
        id_column=spec.id_column,
        target_columns=list(spec.target_columns),
    )
    try:
        fills, sources = _priors(spec, public_dir, plan)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        # A prior is a nicety; an unreadable table must never cost the valid submission.
        log.warning("offline baseline without priors", error=f"{type(error).__name__}: {error}")
        return plan
    return plan.model_copy(update={"fills": fills, "sources": sources})


@cache
def baseline_body() -> str:
    return resources.files("mlmaster.offline").joinpath("baseline_body.py").read_text("utf-8")


def render_baseline(plan: BaselinePlan, reason: str) -> str:
    """The complete baseline script: marker, why, the body, its CONFIG and the call."""
    config = json.dumps(plan.model_dump(exclude={"sources"}), indent=1, sort_keys=True)
    return "\n".join(
        [
            BASELINE_MARKER,
            f"# Offline mode cannot model this competition ({reason});",
            f"# this script {plan.describe()}.",
            "",
            baseline_body().rstrip(),
            "",
            "",
            f"CONFIG = json.loads({config!r})",
            "",
            'if __name__ == "__main__":',
            "    main(CONFIG)",
            "",
        ]
    )


# ---------------------------------------------------------------- priors


def _priors(
    spec: CompetitionSpec, public_dir: Path, plan: BaselinePlan
) -> tuple[dict[str, Value], dict[str, str]]:
    predicted = _numeric_predictions(spec, public_dir, plan)
    if not predicted:
        return {}, {}
    output = output_kind(spec)
    fills: dict[str, Value] = {}
    sources: dict[str, str] = {}
    tables = [(name, _read(public_dir / name)) for name in _training_tables(spec, public_dir)]
    for column in predicted:
        for name, table in tables:
            if column in table.columns and pd.api.types.is_numeric_dtype(table[column]):
                values = table[column].dropna()
                if len(values):
                    fills[column] = _prior(values, output, spec.metric)
                    sources[column] = f"{name}:{column}"
                    break
    if len(predicted) > 1 and not fills and output == "proba":
        for name, table in tables:
            frequencies = _class_frequencies(table, predicted)
            if frequencies is not None:
                label, shares = frequencies
                fills = {c: round(shares.get(c, 0.0), 6) for c in predicted}
                sources = {c: f"{name}:{label} share" for c in predicted}
                break
    return fills, sources


def _numeric_predictions(spec: CompetitionSpec, public_dir: Path, plan: BaselinePlan) -> list[str]:
    """The spec's target columns that the sample holds as numbers (priors are numbers)."""
    if plan.sample_file is None or plan.sample_file.lower().endswith(".7z"):
        return []
    path = public_dir / plan.sample_file
    if plan.sample_member and path.name.lower().endswith(".zip"):
        return []  # read inside the archive by the script; no prior needed to stay valid
    head = pd.read_csv(path, nrows=50)
    return [
        c
        for c in spec.target_columns
        if c in head.columns and pd.api.types.is_numeric_dtype(head[c])
    ]


def _training_tables(spec: CompetitionSpec, public_dir: Path) -> list[str]:
    """CSV tables that may hold training labels: the spec's train file, then by name."""
    names = [spec.train_file] if spec.train_file else []
    others = sorted(
        p.name
        for p in public_dir.iterdir()
        if p.is_file()
        and p.name.lower().endswith(_TABLE_SUFFIXES)
        and _TRAINING_NAME.search(p.name)
        and "sample" not in p.name.lower()
    )
    return [n for n in dict.fromkeys([*names, *others]) if (public_dir / n).is_file()]


def _test_table(spec: CompetitionSpec, public_dir: Path) -> str | None:
    if spec.test_file and (public_dir / spec.test_file).is_file():
        return spec.test_file
    found = sorted(
        p.name
        for p in public_dir.iterdir()
        if p.is_file() and re.match(r"test.*\.(csv|tsv|txt)(\.zip|\.gz)?$", p.name, re.I)
    )
    return found[0] if found else None


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, nrows=PRIOR_ROWS, low_memory=False)


def _prior(values: pd.Series, output: str, metric: str) -> Value:
    if output == "label":
        mode = values.value_counts().index[0]
        return int(mode) if float(mode).is_integer() else float(mode)
    if output == "proba":
        return round(min(max(float(values.mean()), 0.0), 1.0), 6)
    center = values.mean() if metric in _SQUARED_ERROR else values.median()
    return round(float(center), 6)


def _class_frequencies(
    table: pd.DataFrame, classes: list[str]
) -> tuple[str, dict[str, float]] | None:
    """(label column, share of each class) when a column's values name the class columns."""
    wanted = set(classes)
    for column in table.columns:
        values = table[column].dropna().map(label_text)
        if values.empty or not set(values) <= wanted or values.nunique() < 2:
            continue
        shares = values.value_counts(normalize=True)
        return column, {str(k): float(v) for k, v in shares.items()}
    return None


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
