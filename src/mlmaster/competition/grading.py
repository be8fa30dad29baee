"""Grade one submission file as MLE-bench does: validity, score, medals, in its report shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from mlmaster.competition.layout import Competition
from mlmaster.competition.medals import Medals, award, normalized_score
from mlmaster.competition.validation import ValidationOutcome, check_and_score

# MLE-bench reports (and ranks) the score rounded to five decimals.
SCORE_DECIMALS = 5


class GradeReport(BaseModel):
    """MLE-bench's per-competition report fields, plus our normalised score and the reason."""

    competition_id: str
    score: float | None
    gold_threshold: float | None
    silver_threshold: float | None
    bronze_threshold: float | None
    median_threshold: float | None
    any_medal: bool
    gold_medal: bool
    silver_medal: bool
    bronze_medal: bool
    above_median: bool
    submission_exists: bool
    valid_submission: bool
    is_lower_better: bool
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    submission_path: str
    # Not in MLE-bench's report: 0 at the leaderboard median, 1 at gold, higher is better.
    normalized_score: float | None = None
    # Not in MLE-bench's report: the validator's verdict, which says why a file is invalid.
    validation_message: str | None = None


def grade_submission(competition: Competition, path: Path) -> GradeReport:
    """Validate and score ``path``, then place the score against the leaderboard's medals."""
    spec = competition.spec
    # MLE-bench counts a submission as existing only if it is a file named *.csv.
    exists = path.is_file() and path.suffix.lower() == ".csv"
    if exists:
        checked = check_and_score(competition, path)
        outcome, raw = checked.outcome, checked.score
    else:
        outcome, raw = ValidationOutcome.invalid(f"no .csv file at {path}"), None
    score = None if raw is None else round(raw, SCORE_DECIMALS)
    thresholds = competition.leaderboard.thresholds if competition.leaderboard else None
    medals = award(score, thresholds, spec.lower_is_better) if thresholds else Medals()
    return GradeReport(
        competition_id=spec.id,
        score=score,
        gold_threshold=thresholds.gold if thresholds else None,
        silver_threshold=thresholds.silver if thresholds else None,
        bronze_threshold=thresholds.bronze if thresholds else None,
        median_threshold=thresholds.median if thresholds else None,
        any_medal=medals.any_medal,
        gold_medal=medals.gold_medal,
        silver_medal=medals.silver_medal,
        bronze_medal=medals.bronze_medal,
        above_median=medals.above_median,
        submission_exists=exists,
        valid_submission=outcome.is_valid,
        is_lower_better=spec.lower_is_better,
        submission_path=str(path),
        normalized_score=normalized_score(score, thresholds) if thresholds else None,
        validation_message=outcome.message,
    )
