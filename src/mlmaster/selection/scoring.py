"""Score a node's holdout predictions with the competition's own metric and checks.

The predictions are copied out of the workspace the way the submission is
(:func:`mlmaster.execution.readback.copy_out`: no link followed anywhere, a regular file with
one link, capped; a script could otherwise point ``holdout.csv`` at the held answers if it
guessed their path) into the node's folder, and that copy is checked exactly as a submission is
(the sample's columns, every held id once, the metric's domain) against the held answers
instead of the test answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlmaster.competition.layout import Competition, read_table
from mlmaster.competition.validation import INVALID_PREFIX, SubmissionRules
from mlmaster.execution.readback import copy_out
from mlmaster.selection.inputs import HOLDOUT_OUTPUT


@dataclass(frozen=True)
class HoldoutScore:
    """The holdout score of one node, or why it has none."""

    score: float | None
    problem: str | None = None


def held_answers(path: Path, competition: Competition) -> pd.DataFrame:
    """The held rows' answers, read as the grader reads answers (ids as text)."""
    return read_table(path, competition.spec.id_column)


def score_predictions(
    competition: Competition, answers: pd.DataFrame, predictions: Path
) -> HoldoutScore:
    """Check and score a predictions file (a regular file we wrote) against the held answers."""
    # The same checks and metric as a submission's, the held rows as the answers.
    scored = SubmissionRules.of(competition, answers=answers).check_and_score(predictions)
    if scored.score is None:
        return HoldoutScore(None, scored.outcome.message.removeprefix(INVALID_PREFIX))
    return HoldoutScore(scored.score)


def score_node(
    competition: Competition, answers: pd.DataFrame, workspace: Path, keep_as: Path, cap: int
) -> HoldoutScore:
    """Copy the node's holdout predictions out of its workspace to ``keep_as`` and score them."""
    kept = copy_out(workspace, f"submission/{HOLDOUT_OUTPUT}", keep_as, cap=cap)
    if kept.problem:
        return HoldoutScore(None, kept.problem)
    if kept.copy is None:
        return HoldoutScore(None, f"no submission/{HOLDOUT_OUTPUT} written")
    return score_predictions(competition, answers, kept.copy)
