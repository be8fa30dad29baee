"""Score a node's holdout predictions with the competition's own metric and checks.

The predictions are read back from the workspace without following any link (neither
``submission/`` nor ``holdout.csv`` may be one: a script could point a link at the held answers
if it guessed their path), copied into the node's folder, and then checked exactly as a
submission is (columns of the sample, every held id once, the metric's domain) against the
held answers instead of the test answers.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlmaster.competition.layout import Competition, read_table
from mlmaster.competition.validation import INVALID_PREFIX, check_and_score
from mlmaster.selection.inputs import HOLDOUT_OUTPUT

MAX_PREDICTIONS_BYTES = 1024**3  # larger than any sane holdout file; refuse rather than load


@dataclass(frozen=True)
class HoldoutScore:
    """The holdout score of one node, or why it has none."""

    score: float | None
    problem: str | None = None


def read_predictions(workspace: Path) -> bytes | str:
    """``submission/holdout.csv`` of ``workspace`` as bytes, or why it cannot be taken.

    Every component below the workspace is opened with ``O_NOFOLLOW``: a link anywhere is
    refused, and only a regular file is read.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        folder = os.open(workspace / "submission", flags | os.O_DIRECTORY)
    except OSError as error:
        return _why(error, "submission/")
    try:
        handle = os.open(HOLDOUT_OUTPUT, flags | os.O_NONBLOCK, dir_fd=folder)
    except OSError as error:
        return _why(error, f"submission/{HOLDOUT_OUTPUT}")
    finally:
        os.close(folder)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            return f"submission/{HOLDOUT_OUTPUT} is not a regular file"
        if info.st_size > MAX_PREDICTIONS_BYTES:
            return f"submission/{HOLDOUT_OUTPUT} is larger than {MAX_PREDICTIONS_BYTES} bytes"
        with os.fdopen(handle, "rb", closefd=False) as file:
            return file.read(MAX_PREDICTIONS_BYTES + 1)
    finally:
        os.close(handle)


def _why(error: OSError, name: str) -> str:
    if error.errno == errno.ENOENT:
        return f"no {name} written"
    if error.errno in (errno.ELOOP, errno.ENOTDIR):
        return f"{name} is a link or not what it should be; it is not followed"
    return f"{name} could not be read: {error.strerror or error}"


def held_answers(path: Path, competition: Competition) -> pd.DataFrame:
    """The held rows' answers, read as the grader reads answers (ids as text)."""
    return read_table(path, competition.spec.id_column)


def score_predictions(
    competition: Competition, answers: pd.DataFrame, predictions: Path
) -> HoldoutScore:
    """Check and score a predictions file (a regular file we wrote) against the held answers."""
    holdout = competition.model_copy()
    holdout._answers = answers  # the same checks and metric, the held rows as the answers
    scored = check_and_score(holdout, predictions)
    if scored.score is None:
        return HoldoutScore(None, scored.outcome.message.removeprefix(INVALID_PREFIX))
    return HoldoutScore(scored.score)


def score_node(
    competition: Competition, answers: pd.DataFrame, workspace: Path, keep_as: Path
) -> HoldoutScore:
    """Take the node's holdout predictions out of its workspace, keep a copy, and score it."""
    data = read_predictions(workspace)
    if isinstance(data, str):
        return HoldoutScore(None, data)
    keep_as.write_bytes(data)
    return score_predictions(competition, answers, keep_as)
