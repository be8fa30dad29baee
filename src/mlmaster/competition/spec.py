"""What a competition declares: the facts every other part may rely on.

This is the boundary type of the ``competition`` part; loaders fill it from MLE-bench's
``config.yaml`` / our own ``competition.json`` beside ``prepared/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

TaskType = Literal[
    "binary",  # one probability or label column for a two-class target
    "multiclass",  # one label column, or one probability column per class
    "multilabel",  # several independent probability columns
    "regression",  # one or more real-valued columns
    "ordinal",  # integer labels on an ordered scale (e.g. QWK)
    "other",  # anything the offline coder cannot model (images, audio, ...)
]


class CompetitionSpec(BaseModel):
    """The declared facts of one competition (no data, no answers)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    metric: str  # a key of mlmaster.competition.metrics.METRICS, e.g. "rmsle", "roc_auc"
    lower_is_better: bool
    id_column: str
    target_columns: list[str]
    task_type: TaskType
    # Optional facts that help coders (offline or LLM) without touching the answers.
    train_file: str | None = None  # e.g. "train.csv", relative to public/
    test_file: str | None = None  # e.g. "test.csv", relative to public/
    answers_file: str = "answers.csv"  # relative to private/
    # The sample submission, relative to public/: a CSV, or an archive holding one (then
    # ``sample_submission_member`` names the CSV inside); None when the folder has none.
    sample_submission_file: str | None = "sample_submission.csv"
    sample_submission_member: str | None = None
    labels: list[int | str] | None = None  # allowed label values where the metric wants labels
    metric_k: int | None = None  # K of MAP@K
    positive_label: int | str = 1  # the positive class of binary F1


class CompetitionPaths(BaseModel):
    """Where one prepared competition lives. Only ``public_dir`` is for the agent side."""

    model_config = ConfigDict(frozen=True)

    root: Path  # <data_dir>/<competition-id>
    public_dir: Path  # .../prepared/public
    private_dir: Path  # .../prepared/private
    description_file: Path  # .../prepared/public/description.md
    sample_submission: Path | None  # .../prepared/public/sample_submission.csv; None: none
