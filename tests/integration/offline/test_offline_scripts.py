"""Offline scripts run for real, with the scripts' own Python, on synthetic competitions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from offline_competitions import (
    assert_valid_submission,
    binary,
    images,
    make_request,
    multiclass,
    ordinal,
    regression,
    run_script,
    text,
)

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.execution.result import ExecutionResult, ScriptException
from mlmaster.llm.requests import ParentSolution
from mlmaster.offline import OfflineCoder
from mlmaster.offline.recipe import recipe_from_code

Builder = Callable[[Path], CompetitionSpec]

CASES: dict[str, Builder] = {
    "binary-f1": lambda root: binary(root, "f1"),
    "binary-logloss": lambda root: binary(root, "log_loss"),
    "multiclass-accuracy": lambda root: multiclass(root),
    "multiclass-proba": lambda root: multiclass(root, proba=True),
    "regression-rmsle": regression,
    "ordinal-qwk": ordinal,
    "text-auc": text,
}


async def draft_and_run(tmp_path: Path, build: Builder) -> tuple[CompetitionSpec, Path, str, float]:
    spec = build(tmp_path / "comp")
    public = tmp_path / "comp" / "public"
    answer = await OfflineCoder().generate(make_request(spec, public))
    assert answer.code is not None
    run = run_script(answer.code, public, tmp_path / "draft")
    assert run.returncode == 0, run.output
    assert run.metric is not None, run.output
    assert_valid_submission(spec, public, run.submission)
    return spec, public, answer.code, run.metric


def check_domain(spec: CompetitionSpec, written: pd.DataFrame) -> None:
    values = written.drop(columns=spec.id_column)
    if spec.metric in ("log_loss", "roc_auc"):
        assert ((values >= 0) & (values <= 1)).all().all()
    if spec.labels is not None:
        allowed = {str(v) for v in spec.labels}
        assert set(values.iloc[:, 0].astype(str)) <= allowed
    if spec.metric == "rmsle":
        assert (values >= 0).all().all()


@pytest.mark.parametrize("case", sorted(CASES))
async def test_draft_script_scores_and_writes_the_sample_format(tmp_path: Path, case: str) -> None:
    spec, _, _, metric = await draft_and_run(tmp_path, CASES[case])
    written = pd.read_csv(tmp_path / "draft" / "submission" / "submission.csv")
    check_domain(spec, written)
    assert np.isfinite(metric)
    if spec.metric in ("accuracy", "roc_auc", "f1", "qwk"):
        assert metric > 0.5  # the synthetic signal is strong: a working model finds it


@pytest.mark.parametrize("case", ["regression-rmsle", "ordinal-qwk", "binary-f1", "text-auc"])
async def test_improve_of_a_draft_runs_and_changes_the_recipe(tmp_path: Path, case: str) -> None:
    spec, public, code, metric = await draft_and_run(tmp_path, CASES[case])
    parent = ParentSolution(node_id="n1", plan="draft", code=code, metric=metric)
    request = make_request(spec, public, operator="improve", node_id="n2", parent=parent)
    answer = await OfflineCoder().generate(request)
    assert answer.code is not None
    before, after = recipe_from_code(code), recipe_from_code(answer.code)
    assert before is not None and after is not None
    assert after != before
    run = run_script(answer.code, public, tmp_path / "improve")
    assert run.returncode == 0, run.output
    assert run.metric is not None
    check_domain(spec, assert_valid_submission(spec, public, run.submission))


async def test_debug_of_a_missing_column_runs_without_it(tmp_path: Path) -> None:
    spec, public, code, _ = await draft_and_run(tmp_path, CASES["binary-f1"])
    failure = ExecutionResult(
        exit_code=1,
        runtime=1.0,
        exception=ScriptException(type="KeyError", message="'size'"),
    )
    parent = ParentSolution(node_id="n1", plan="draft", code=code, buggy=True, execution=failure)
    request = make_request(spec, public, operator="debug", node_id="n2", parent=parent)
    answer = await OfflineCoder().generate(request)
    recipe = recipe_from_code(answer.code)
    assert recipe is not None and "size" in recipe.features.drop_columns
    run = run_script(answer.code or "", public, tmp_path / "debug")
    assert run.returncode == 0, run.output
    assert "'size'" not in run.output
    assert_valid_submission(spec, public, run.submission)


async def test_unmodelable_competition_gets_the_sample_as_submission(tmp_path: Path) -> None:
    spec = images(tmp_path / "pics")
    public = tmp_path / "pics" / "public"
    answer = await OfflineCoder().generate(make_request(spec, public))
    assert "offline mode cannot model" in answer.plan
    run = run_script(answer.code or "", public, tmp_path / "ws")
    assert run.returncode == 0, run.output
    assert run.metric is None
    written = assert_valid_submission(spec, public, run.submission)
    assert written.equals(pd.read_csv(public / "sample_submission.csv"))
