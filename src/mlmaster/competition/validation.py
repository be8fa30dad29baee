"""Is a submission file gradable? MLE-bench's checks, plus the metric's domain rules.

Checks run in order and stop at the first failure, whose message says exactly what is wrong:
the file exists, is a non-empty UTF-8 ``.csv`` that parses; it has the sample submission's
columns; its ids are the answers' ids (as a set, any order, no repeats); every prediction is
present and lies in the metric's domain; and finally the metric scores it without error.
Garbage input (binary junk, another encoding, ragged rows) gives an invalid outcome, never an
exception. The score computed on the way is never part of a :class:`ValidationOutcome`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from mlmaster.competition.layout import Competition, read_table
from mlmaster.competition.metrics import InvalidSubmissionError
from mlmaster.logs import get_logger

VALID_MESSAGE = "Submission is valid."
INVALID_PREFIX = "Submission invalid! "
SHOWN = 5  # how many offending ids or values a message lists before "and N more"

log = get_logger(__name__)


class ValidationOutcome(BaseModel):
    """The verdict on one submission, worded as MLE-bench's validation server words it."""

    model_config = ConfigDict(frozen=True)

    is_valid: bool
    message: str  # "Submission is valid." or "Submission invalid! <reason>"

    @classmethod
    def valid(cls) -> ValidationOutcome:
        return cls(is_valid=True, message=VALID_MESSAGE)

    @classmethod
    def invalid(cls, reason: str) -> ValidationOutcome:
        return cls(is_valid=False, message=INVALID_PREFIX + reason)


@dataclass(frozen=True)
class ScoredSubmission:
    """A verdict and, for a valid submission, its (unrounded) score: for the grader only."""

    outcome: ValidationOutcome
    score: float | None


class _Invalid(Exception):
    """Raised inside the checks; its message becomes the invalid outcome's reason."""


def validate_submission(competition: Competition, path: Path) -> ValidationOutcome:
    """Check the submission at ``path`` against ``competition``; never reveals a score."""
    return check_and_score(competition, path).outcome


def check_and_score(competition: Competition, path: Path) -> ScoredSubmission:
    """Run every check, then the metric. Problems with the answers themselves still raise."""
    answers = competition.answers()
    try:
        submission = _read_submission(path, competition.spec.id_column)
        _check_columns(submission, competition.sample_columns())
        _check_ids(submission, answers, competition.spec.id_column)
        for column in competition.spec.target_columns:
            _check_column(submission, column, competition)
        score = competition.metric.score(answers, submission, competition.spec)
    except (_Invalid, InvalidSubmissionError) as problem:
        return ScoredSubmission(ValidationOutcome.invalid(str(problem)), None)
    except Exception as error:  # the metric failed on this input: like MLE-bench, invalid
        log.warning("grading_failed", path=str(path), error=repr(error))
        return ScoredSubmission(
            ValidationOutcome.invalid(f"the metric could not score it: {error}"), None
        )
    return ScoredSubmission(ValidationOutcome.valid(), score)


def _read_submission(path: Path, id_column: str) -> pd.DataFrame:
    if not path.is_file():
        raise _Invalid(f"no file at {path}")
    if path.suffix.lower() != ".csv":
        raise _Invalid(f"{path.name} is not a .csv file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _Invalid(f"the file could not be read: {error.strerror or error}") from None
    if not data.strip():
        raise _Invalid("the file is empty; it needs a header line and one row per test id")
    if b"\x00" in data:
        raise _Invalid("the file holds NUL bytes: it is binary, not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Invalid(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8 CSV"
        ) from None
    header = next(csv.reader(io.StringIO(text)), [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise _Invalid(f"column(s) {_listing(repeated)} appear more than once in the header")
    try:
        frame = read_table(io.StringIO(text), id_column)
    except Exception as error:  # pandas raises several types for malformed text
        raise _Invalid(f"the file could not be parsed as CSV: {error}") from None
    return frame


def _check_columns(submission: pd.DataFrame, expected: list[str]) -> None:
    missing = [c for c in expected if c not in submission.columns]
    extra = [c for c in submission.columns if c not in expected]
    problems = []
    if missing:
        problems.append(f"missing column(s) {_listing(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {_listing(extra)}")
    if problems:
        raise _Invalid(f"{'; '.join(problems)}; the columns must be {_listing(expected)}")


def _check_ids(submission: pd.DataFrame, answers: pd.DataFrame, id_column: str) -> None:
    ids = submission[id_column]
    if ids.isna().any():
        rows = _rows(ids.isna())
        raise _Invalid(f"column {id_column!r} is empty in {len(rows)} row(s): {_listing(rows)}")
    repeated = ids[ids.duplicated()].unique().tolist()
    if repeated:
        raise _Invalid(f"{len(repeated)} id(s) appear more than once: {_listing(repeated)}")
    expected = answers[id_column]
    found = pd.Index(ids).get_indexer(expected)  # one hash join; ids are unique by now
    missing = expected[found < 0].tolist()  # in the answers' order
    matched = int((found >= 0).sum())
    extra = ids[~ids.isin(expected)].tolist() if matched < len(ids) else []  # file's order
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} test id(s) missing: {_listing(missing)}")
        if extra:
            parts.append(f"{len(extra)} id(s) not in the test set: {_listing(extra)}")
        raise _Invalid("; ".join(parts))
    if len(submission) != len(answers):  # unreachable with unique, matching ids; kept as a guard
        raise _Invalid(f"the file has {len(submission)} rows, expected {len(answers)}")


def _check_column(submission: pd.DataFrame, column: str, competition: Competition) -> None:
    """No missing prediction, and every value inside the metric's domain."""
    values = submission[column]
    ids = submission[competition.spec.id_column]
    if values.isna().any():
        rows = _rows(values.isna())
        raise _Invalid(
            f"column {column!r} has {len(rows)} missing prediction(s), first "
            f"{_where(values.isna(), ids)}"
        )
    domain = competition.metric.domain
    if domain == "ranking":  # free text: space-separated items
        return
    if domain == "label":
        _check_declared_labels(values, ids, column, competition.spec.labels)
        return
    numbers = pd.to_numeric(values, errors="coerce")
    not_numbers = numbers.isna()
    if not_numbers.any():
        raise _Invalid(
            f"column {column!r} must hold numbers; {int(not_numbers.sum())} value(s) are not, "
            f"first {_where(not_numbers, ids, values)}"
        )
    infinite = ~np.isfinite(numbers.to_numpy(dtype=float))
    if infinite.any():
        mask = pd.Series(infinite, index=values.index)
        raise _Invalid(f"column {column!r} holds an infinite value at {_where(mask, ids, values)}")
    if domain == "probability":
        outside = (numbers < 0) | (numbers > 1)
        if outside.any():
            raise _Invalid(
                f"column {column!r} holds probabilities, which must lie in [0, 1]; "
                f"{int(outside.sum())} value(s) do not, first {_where(outside, ids, values)}"
            )
    elif domain == "non_negative":
        negative = numbers < 0
        if negative.any():
            raise _Invalid(
                f"column {column!r} must be non-negative for {competition.spec.metric}; "
                f"{int(negative.sum())} value(s) are negative, "
                f"first {_where(negative, ids, values)}"
            )
    elif domain == "integer_label":
        fractional = numbers % 1 != 0
        if fractional.any():
            raise _Invalid(
                f"column {column!r} must hold whole-number labels; {int(fractional.sum())} "
                f"value(s) are not, first {_where(fractional, ids, values)}"
            )
        _check_declared_labels(numbers.astype("int64"), ids, column, competition.spec.labels)


def _check_declared_labels(
    values: pd.Series, ids: pd.Series, column: str, labels: list[int | str] | None
) -> None:
    """Where the spec lists the allowed labels, every value must be one of them."""
    if not labels:
        return
    allowed = {str(label) for label in labels}
    as_text = values.map(_label_text)
    outside = ~as_text.isin(allowed)
    if outside.any():
        raise _Invalid(
            f"column {column!r} must hold one of the labels {_listing(labels)}; "
            f"{int(outside.sum())} value(s) do not, first {_where(outside, ids, values)}"
        )


def _label_text(value: object) -> str:
    """A label as text, so that 3, 3.0 and "3" all read as "3"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _rows(mask: pd.Series) -> list[int]:
    """1-based data row numbers (the header is not a row) where ``mask`` holds."""
    return [int(i) + 1 for i in np.flatnonzero(mask.to_numpy())]


def _where(mask: pd.Series, ids: pd.Series, values: pd.Series | None = None) -> str:
    """The first row where ``mask`` holds, with its id and, if given, its value."""
    position = int(np.flatnonzero(mask.to_numpy())[0])
    shown = "" if values is None else f"{_short(values.iloc[position])} "
    return f"{shown}at row {position + 1} (id {ids.iloc[position]!r})"


def _short(value: object) -> str:
    if isinstance(value, np.generic):  # numpy scalars print as np.float64(...) otherwise
        value = value.item()
    if isinstance(value, float) and not math.isnan(value):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _listing(items: Iterable[object]) -> str:
    """A few items quoted, then how many more: 'a', 'b', 'c' and 12 more."""
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:SHOWN])
    rest = len(items) - SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown
