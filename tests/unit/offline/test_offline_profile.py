"""Profiling a competition's public files: column kinds, outputs, classes."""

from __future__ import annotations

from offline_tables import MakeCompetition

from mlmaster.offline.profile import profile_competition


def test_columns_are_classified_by_what_they_hold(make_competition: MakeCompetition) -> None:
    spec, public = make_competition(text=True, n=400)
    columns = profile_competition(spec, public).columns
    assert columns.numeric == ["num", "count", "store_id"]
    assert columns.categorical == ["colour"]
    assert columns.date == ["day"]
    assert columns.text == ["review"]
    # Integer codes named like identifiers are worth target-encoding; counts are not.
    assert columns.high_cardinality == ["store_id"]


def test_id_target_and_constant_columns_are_not_features(make_competition: MakeCompetition) -> None:
    spec, public = make_competition()
    profile = profile_competition(spec, public)
    features = profile.columns.numeric + profile.columns.categorical + profile.columns.date
    assert not {"id", "target", "constant"} & set(features)


def test_outputs_follow_the_metric(make_competition: MakeCompetition) -> None:
    cases = {
        ("binary", "roc_auc"): "proba",
        ("binary", "f1"): "label",
        ("multiclass", "accuracy"): "label",
        ("regression", "rmsle"): "value",
        ("ordinal", "qwk"): "label",
    }
    for (task, metric), output in cases.items():
        spec, public = make_competition(task=task, metric=metric)
        assert profile_competition(spec, public).output == output, (task, metric)


def test_binary_classes_and_positive_label(make_competition: MakeCompetition) -> None:
    spec, public = make_competition(task="binary", metric="f1")
    profile = profile_competition(spec, public)
    assert profile.classes == [0, 1]
    assert (profile.negative_label, profile.positive_label) == (0, 1)
    assert profile.n_train == 60 and profile.n_test == 60


def test_regression_target_sign_is_recorded(make_competition: MakeCompetition) -> None:
    spec, public = make_competition(task="regression", metric="rmsle", lower_is_better=True)
    assert profile_competition(spec, public).non_negative


def test_competition_without_tables_is_not_modelable(make_competition: MakeCompetition) -> None:
    spec, public = make_competition()
    (public / "train.csv").unlink()
    profile = profile_competition(spec, public)
    assert not profile.modelable
    assert "train.csv" in profile.reason
