"""The baseline's priors: which prediction columns get one, and which value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.offline.baseline import BASELINE_MARKER, plan_baseline, render_baseline


def spec(metric: str, targets: list[str], **extra: object) -> CompetitionSpec:
    lower = metric in ("log_loss", "rmse", "mae")
    task = extra.pop("task_type", "other")
    return CompetitionSpec(
        id="c",
        name="c",
        metric=metric,
        lower_is_better=lower,
        id_column="id",
        target_columns=targets,
        task_type=task,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def folder(tmp_path: Path, sample: dict[str, list[object]], **tables: pd.DataFrame) -> Path:
    pd.DataFrame(sample).to_csv(tmp_path / "sample_submission.csv", index=False)
    for name, table in tables.items():
        table.to_csv(tmp_path / name, index=False)
    return tmp_path


LABELS = pd.DataFrame({"id": range(7), "y": [1, 1, 1, 0, 0, 2, 9], "note": list("abcdefg")})


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("accuracy", 1),  # labels: the most frequent
        ("roc_auc", 1.0),  # probabilities: the mean, clipped to [0, 1]
        ("rmse", 2.0),  # squared error: the mean
        ("mae", 1.0),  # other values: the median
    ],
)
def test_a_numeric_prediction_column_gets_the_training_prior(
    tmp_path: Path, metric: str, expected: float
) -> None:
    public = folder(tmp_path, {"id": [10, 11], "y": [0, 0]}, **{"train.csv": LABELS})
    plan = plan_baseline(spec(metric, ["y"]), public)
    assert plan.fills == {"y": expected}
    assert plan.sources == {"y": "train.csv:y"}
    assert "train.csv:y" in plan.describe()


def test_class_columns_get_the_label_shares_from_a_labels_table(tmp_path: Path) -> None:
    labels = pd.DataFrame({"id": range(4), "breed": ["pug", "pug", "pug", "collie"]})
    sample = {"id": ["a"], "beagle": [0.3], "collie": [0.3], "pug": [0.4]}
    public = folder(tmp_path, sample, **{"labels.csv": labels})
    plan = plan_baseline(spec("log_loss", ["beagle", "collie", "pug"]), public)
    assert plan.fills == {"beagle": 0.0, "collie": 0.25, "pug": 0.75}


def test_text_columns_and_columns_no_table_holds_keep_the_samples_values(tmp_path: Path) -> None:
    sample = {"id": [1], "note": ["x"], "score": [0.5]}
    public = folder(tmp_path, sample, **{"train.csv": LABELS})
    plan = plan_baseline(spec("rmse", ["note", "score"]), public)
    assert plan.fills == {}
    assert plan.describe().endswith("as it is")


def test_an_unreadable_training_table_costs_the_priors_not_the_plan(tmp_path: Path) -> None:
    public = folder(tmp_path, {"id": [1], "y": [0.5]})
    (public / "train.csv").write_bytes(b"id,y\n1,\xff\xfe\n")  # not UTF-8: pandas raises
    plan = plan_baseline(spec("rmse", ["y"]), public)
    assert plan.sample_file == "sample_submission.csv" and plan.fills == {}


def test_without_a_sample_the_plan_starts_from_the_test_table(tmp_path: Path) -> None:
    pd.DataFrame({"id": [1, 2], "sentence": ["a", "b"]}).to_csv(tmp_path / "test.csv")
    plan = plan_baseline(spec("rmse", ["sentence"], sample_submission_file=None), tmp_path)
    assert plan.sample_file is None and plan.test_file == "test.csv"
    assert "one row per test id" in plan.describe()


def test_a_7z_sample_is_left_to_the_script(tmp_path: Path) -> None:
    (tmp_path / "sample_submission.csv.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    given = spec("log_loss", ["p"], sample_submission_file="sample_submission.csv.7z")
    plan = plan_baseline(given, tmp_path)
    assert plan.sample_file == "sample_submission.csv.7z" and plan.fills == {}
    script = render_baseline(plan, "images")
    assert script.startswith(BASELINE_MARKER) and "main(CONFIG)" in script
    compile(script, "baseline.py", "exec")
