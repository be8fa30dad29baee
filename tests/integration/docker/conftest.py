"""A tiny prepared competition, and the environment a child mlmaster process starts from."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlmaster.competition.spec import CompetitionSpec

COMPETITION_ID = "tiny-regression"
REPO_ROOT = Path(__file__).resolve().parents[3]
MLMASTER_BIN = Path(sys.executable).parent / "mlmaster"

DESCRIPTION = """# Tiny Regression

Predict `target` for every row of `test.csv` from the four numeric features.

## Evaluation

Submissions are scored on the root mean squared error between predicted and true targets.

## Submission File

A CSV with the columns `id,target`, one row per test id, as in `sample_submission.csv`.
"""


@dataclass(frozen=True)
class TinyCompetition:
    id: str
    data_dir: Path  # <data_dir>/<id>/prepared/{public,private}

    @property
    def public_dir(self) -> Path:
        return self.data_dir / self.id / "prepared" / "public"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyCompetition:
    """``<data>/tiny-regression`` in MLE-bench's prepared layout, with a competition.json.

    Its public description names the metric, so a run on the bare public folder infers it.
    """
    data_dir = tmp_path_factory.mktemp("data")
    root = data_dir / COMPETITION_ID
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 4))
    target = features @ np.array([3.0, -2.0, 0.5, 0.0]) + rng.normal(scale=0.3, size=400)
    frame = pd.DataFrame(features, columns=["f1", "f2", "f3", "f4"])
    frame.insert(0, "id", np.arange(1, 401))
    frame["target"] = target
    train, test = frame.iloc[:300], frame.iloc[300:]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns="target").to_csv(public / "test.csv", index=False)
    sample = pd.DataFrame({"id": test["id"], "target": float(train["target"].mean())})
    sample.to_csv(public / "sample_submission.csv", index=False)
    test[["id", "target"]].to_csv(private / "answers.csv", index=False)
    (public / "description.md").write_text(DESCRIPTION, encoding="utf-8")
    spec = CompetitionSpec(
        id=COMPETITION_ID,
        name="Tiny Regression",
        metric="rmse",
        lower_is_better=True,
        id_column="id",
        target_columns=["target"],
        task_type="regression",
        train_file="train.csv",
        test_file="test.csv",
    )
    (root / "competition.json").write_text(spec.model_dump_json(indent=2), encoding="utf-8")
    return TinyCompetition(COMPETITION_ID, data_dir)


@pytest.fixture
def child_env() -> Callable[..., dict[str, str]]:
    """A factory of child-process environments: this one without any MLMASTER_* setting
    (so the test's own shell cannot leak in), plus the given variables. The venv's bin folder
    leads PATH so that ``mlmaster`` is this checkout's."""

    def make(**extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MLMASTER_")}
        env["PATH"] = f"{MLMASTER_BIN.parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    return make
