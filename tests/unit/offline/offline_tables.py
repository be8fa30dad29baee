"""Tiny public folders for the offline coder's unit tests (profiling reads real CSVs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mlmaster.competition.spec import CompetitionSpec, TaskType

MakeCompetition = Callable[..., tuple[CompetitionSpec, Path]]


def competition_maker(tmp_path: Path) -> MakeCompetition:
    """Write train/test/sample for one task type and return (spec, public_dir)."""
    made: list[Path] = []

    def make(
        task: TaskType = "binary",
        metric: str = "roc_auc",
        n: int = 120,
        text: bool = False,
        lower_is_better: bool = False,
        labels: list[int | str] | None = None,
    ) -> tuple[CompetitionSpec, Path]:
        rng = np.random.default_rng(0)
        public = tmp_path / f"{task}-{metric}-{len(made)}" / "public"
        public.mkdir(parents=True)
        made.append(public)
        frame = pd.DataFrame(
            {
                "id": np.arange(n),
                "num": rng.normal(size=n),
                "count": rng.integers(0, 5, size=n),
                "colour": rng.choice(["red", "blue", "green"], size=n),
                "store_id": rng.integers(0, 90, size=n),
                "day": pd.date_range("2022-03-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                "constant": 1,
            }
        )
        if text:
            words = ["fine", "good", "bad", "tasty", "awful", "box", "price", "fresh"]
            frame["review"] = [" ".join(rng.choice(words, size=12)) for _ in range(n)]
        if task == "regression":
            frame["target"] = np.exp(rng.normal(size=n))
        elif task == "ordinal":
            frame["target"] = rng.integers(1, 6, size=n)
        elif task == "multiclass":
            frame["target"] = rng.choice(["a", "b", "c"], size=n)
        else:
            frame["target"] = rng.integers(0, 2, size=n)
        train, test = frame.iloc[: n // 2], frame.iloc[n // 2 :].drop(columns="target")
        train.to_csv(public / "train.csv", index=False)
        test.to_csv(public / "test.csv", index=False)
        pd.DataFrame({"id": test["id"], "target": 0}).to_csv(
            public / "sample_submission.csv", index=False
        )
        spec = CompetitionSpec(
            id=f"{task}-{metric}",
            name=task,
            metric=metric,
            lower_is_better=lower_is_better,
            id_column="id",
            target_columns=["target"],
            task_type=task,
            labels=labels,
        )
        return spec, public

    return make
