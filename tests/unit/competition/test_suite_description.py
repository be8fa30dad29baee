"""The bundled suite's Evaluation sections are written from the metric registry alone."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import pytest

from mlmaster.competition.infer import metric_from_description
from mlmaster.competition.metrics import METRICS, Domain, get_metric
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.competition.suite import CATALOG
from mlmaster.competition.suite.description import _RULES, evaluation_lines


def spec_for(metric: str, labels: list[int | str] | None = None) -> CompetitionSpec:
    return CompetitionSpec(
        id="demo",
        name="Demo",
        metric=metric,
        lower_is_better=get_metric(metric).lower_is_better,
        id_column="id",
        target_columns=["y"],
        task_type=get_metric(metric).task_type,
        labels=labels,
        metric_k=5 if metric == "map_at_k" else None,
    )


def evaluation(spec: CompetitionSpec) -> str:
    return "## Evaluation\n\n" + "\n".join(evaluation_lines(spec)) + "\n\n## Data\n"


@pytest.mark.parametrize("name", sorted(METRICS))
def test_each_metric_is_named_so_the_description_reader_finds_it(name: str) -> None:
    metric = get_metric(name)
    text = evaluation(spec_for(name))
    # A phrase-less metric is named like its family (several ROC AUC columns: roc_auc).
    expected = name if metric.phrases else "roc_auc"
    assert metric_from_description(text) == expected, text
    assert metric.title in text and metric.about in text
    assert ("Lower is better." if metric.lower_is_better else "Higher is better.") in text
    assert f"on the predicted {metric.predictions}:" in text


def test_every_prediction_domain_has_a_rule() -> None:
    assert set(_RULES) == set(get_args(Domain))


def test_labels_range_and_k_come_from_the_spec_and_the_record() -> None:
    qwk = evaluation(spec_for("qwk", labels=[1, 2, 3]))
    assert "an integer label among 1, 2, 3." in qwk
    assert "Scores lie between -1 and 1; 1 is the best possible." in qwk
    assert "Scores are 0 or more; 0 is the best possible." in evaluation(spec_for("rmse"))
    assert "Scores are at most 1; 1 is the best possible." in evaluation(spec_for("r2"))
    assert "at most 5 space-separated items" in evaluation(spec_for("map_at_k"))
    assert "must be a label as `train.csv` has it (a hard" in evaluation(spec_for("accuracy"))
    assert "must be one of the labels 0, 1 (a hard" in evaluation(spec_for("f1", labels=[0, 1]))
    assert "must be an integer label." in evaluation(spec_for("qwk"))


def test_a_new_metric_needs_no_edit_to_be_described(monkeypatch: pytest.MonkeyPatch) -> None:
    base = get_metric("mae")
    new = replace(
        base,
        name="median_ae",
        title="median absolute error",
        about="the median of the absolute differences between predicted and true values",
        graders=(),
        phrases=(r"median absolute error",),
    )
    monkeypatch.setitem(METRICS, "median_ae", new)
    text = evaluation(spec_for("median_ae"))
    assert "Submissions are scored by median absolute error on the predicted values: the " in text
    assert "Lower is better. Scores are 0 or more" in text
    assert "- Each prediction must be a finite number." in text


def test_the_catalog_takes_each_direction_from_the_registry() -> None:
    for entry in CATALOG:
        assert entry.spec.lower_is_better == get_metric(entry.spec.metric).lower_is_better
        assert metric_from_description(evaluation(entry.spec)) == entry.spec.metric
