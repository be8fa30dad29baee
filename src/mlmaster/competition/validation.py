"""Is a submission file gradable? MLE-bench's checks, plus the metric's domain rules.

Checks run in order and stop at the first failure, whose message says exactly what is wrong:
the file exists, is a regular file within the size limit, is non-empty UTF-8 text (not UTF-16,
not binary) that parses as CSV; it has the sample submission's columns (where no file shows
them, any header holding the id column and a prediction column); its ids are the test
ids (as a set, any order, no repeats); every prediction is present and lies in the metric's
domain. Grading then scores it with the metric. Garbage input (binary junk, another encoding,
ragged rows) gives an invalid outcome, never an exception. The score computed when grading is
never part of a :class:`ValidationOutcome`.

What a submission is checked against (:class:`SubmissionRules`) is read once per competition:
the answers' ids when the answers are there, else the sample submission's (the test ids), so a
run without the private split still checks the format. A competition whose own files are
broken raises :class:`CompetitionFilesError` naming the file; that is never the submission's
fault.

A small plain file (no quotes, every row full, numbers in a numeric domain: nearly every
submission) is first read without pandas (:meth:`SubmissionRules.plainly_valid`), which only
ever accepts what the full checks accept; anything else, and every refusal, goes through them.

Memory stays bounded whatever a script writes: the file is checked as a stream (size, encoding,
NUL bytes) before it is parsed, and no more rows are parsed than the test set has plus one.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import math
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from mlmaster.competition.layout import ROUND_TRIP, Competition
from mlmaster.competition.metrics import InvalidSubmissionError
from mlmaster.errors import UserError
from mlmaster.logs import get_logger

VALID_MESSAGE = "Submission is valid."
INVALID_PREFIX = "Submission invalid! "
SHOWN = 5  # how many offending ids or values a message lists before "and N more"
SHOWN_CHARS = 40  # longest value or column name a message quotes before cutting it
DEFAULT_SIZE_LIMIT = 512 * 1024**2  # bytes; settings grader.upload_limit
HEADER_LIMIT = 1024**2  # a header line longer than this is not a submission's
CHUNK = 1024**2  # bytes read at a time while streaming the file's checks

log = get_logger(__name__)
# The csv module refuses fields over 128 KiB; a header within HEADER_LIMIT must still parse, so
# that an absurd column name is reported as the wrong column it is.
csv.field_size_limit(max(csv.field_size_limit(), HEADER_LIMIT))


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


class CompetitionFilesError(UserError):
    """The competition's own files (answers, sample submission) cannot be used as they are."""


class _Invalid(Exception):
    """Raised inside the checks; its message becomes the invalid outcome's reason."""


@dataclass(frozen=True)
class SubmissionRules:
    """What a submission of one competition is checked against, read once.

    ``answers`` is None without the private split: the format is then checked against the
    sample submission's columns and ids, and nothing can be scored.
    """

    competition: Competition
    columns: list[str] | None  # the sample submission's header; None: the format is unknown
    ids: pd.Index | None  # the test ids (unique, as text); None when nothing lists them
    ids_source: Path | None  # the file they come from, for messages
    reference: pd.DataFrame | None  # a table holding the target columns (answers or sample)
    answers: pd.DataFrame | None
    size_limit: int

    @classmethod
    def of(
        cls,
        competition: Competition,
        size_limit: int = DEFAULT_SIZE_LIMIT,
        *,
        strict: bool = True,
        answers: pd.DataFrame | None = None,
        answers_source: Path | None = None,
    ) -> SubmissionRules:
        """Read the competition's answers (or sample) once.

        ``strict`` (grading, the validation server) raises :class:`CompetitionFilesError`
        naming a broken file. Otherwise (a run's own validation) a broken or foreign answers
        file is warned about and the format alone is checked: the competition's files never
        make a node invalid. ``answers`` (read from ``answers_source``) replace the
        competition's own, e.g. the held-out rows a holdout score is computed on.
        """
        spec = competition.spec
        columns = _lenient(
            strict, _sample_columns, competition, [spec.id_column, *spec.target_columns]
        )
        if answers is not None:
            source = answers_source or competition.answers_path
            _require_columns(competition, answers, source)
            _require_unique_ids(answers, spec.id_column, source)
        else:
            answers = _lenient(strict, _read_answers, competition, None)
        if answers is not None:
            ids_source: Path | None = answers_source or competition.answers_path
            reference: pd.DataFrame | None = answers
        else:
            nothing: tuple[Path | None, pd.DataFrame | None] = (None, None)
            ids_source, reference = _lenient(
                strict, _reference_without_answers, competition, nothing
            )
        ids = None if reference is None else pd.Index(reference[spec.id_column].astype(str))
        if len(columns) < 2:  # no sample header, no target columns known: the format is open
            if ids is None:  # nor is the id column seen in any table: only parsing is checked
                log.warning("submission format unknown; checking it parses", competition=spec.id)
            else:
                log.warning("submission columns unknown; checking ids only", competition=spec.id)
            return cls(competition, None, ids, ids_source, reference, answers, size_limit)
        return cls(competition, columns, ids, ids_source, reference, answers, size_limit)

    @property
    def format_only(self) -> bool:
        return self.answers is None

    def check(self, path: Path, *, quick: bool = True) -> ValidationOutcome:
        """The verdict on the file at ``path``; never reveals a score, never raises for it.

        ``quick``: a plainly valid file is accepted without parsing it into a table (pandas'
        fixed cost is most of a small file's check); ``False`` always runs every check.
        """
        try:
            if not (quick and self.plainly_valid(path)):
                self._checked_frame(path)
        except _Invalid as problem:
            return ValidationOutcome.invalid(str(problem))
        return ValidationOutcome.valid()

    def plainly_valid(self, path: Path) -> bool:
        """Whether the file is clearly valid, read as plain text: True only where every check
        would pass; False where the full checks must decide (they say what is wrong, or
        accept what this path does not read: quotes, labels, rankings, files over a MiB).

        Raises the same refusal as the full checks for a file that is no CSV text at all.
        """
        domain = self.competition.metric.domain
        if self.columns is None or not self._plain_ids or domain not in _PLAIN_DOMAINS:
            return False
        if domain == "integer_label" and self.competition.spec.labels:
            return False
        head = _check_stream(path, self.size_limit)
        if len(head) >= CHUNK:  # the file may go on past what was read
            return False
        return _plainly_valid_text(head.decode("utf-8-sig"), self, domain)

    @functools.cached_property
    def _plain_ids(self) -> frozenset[str]:
        """The test ids, for the plain path; empty (the path is not taken) when one of them
        looks like a cell pandas reads as missing, which the full checks treat as no id."""
        if self.ids is None:
            return frozenset()
        ids = frozenset(self.ids)
        if any(i.strip().lower() in _NA_LIKE for i in ids):
            return frozenset()
        return ids

    def check_and_score(self, path: Path) -> ScoredSubmission:
        """Every check, then the metric on the answers (which grading needs)."""
        if self.answers is None:
            raise CompetitionFilesError(
                f"{self.competition.spec.id}: no answers at {self.competition.answers_path}; "
                "grading needs the private split"
            )
        try:
            submission = self._checked_frame(path)
            spec = self.competition.spec
            score = self.competition.metric.score(self.answers, submission, spec)
        except (_Invalid, InvalidSubmissionError) as problem:
            return ScoredSubmission(ValidationOutcome.invalid(str(problem)), None)
        except Exception as error:  # the metric failed on this input: like MLE-bench, invalid
            log.warning("grading_failed", path=str(path), error=repr(error))
            return ScoredSubmission(
                ValidationOutcome.invalid(f"the metric could not score it: {error}"), None
            )
        return ScoredSubmission(ValidationOutcome.valid(), score)

    def _checked_frame(self, path: Path) -> pd.DataFrame:
        id_column = self.competition.spec.id_column
        rows = None if self.ids is None else len(self.ids)
        submission = _read_submission(path, id_column, self.columns, self.size_limit, rows)
        if self.columns is None and self.ids is not None:
            _check_open_format(list(submission.columns), id_column, self.ids_source)
        if self.ids is not None and id_column in submission.columns:
            _check_ids(submission, self.ids, id_column)
        for column in self.competition.spec.target_columns:
            if column in submission.columns:
                _check_column(submission, column, self)
        return submission


def validate_submission(competition: Competition, path: Path) -> ValidationOutcome:
    """Check the submission at ``path`` against ``competition``; never reveals a score."""
    return SubmissionRules.of(competition).check(path)


def check_and_score(competition: Competition, path: Path) -> ScoredSubmission:
    """Run every check, then the metric. Problems with the answers themselves raise."""
    return SubmissionRules.of(competition).check_and_score(path)


# --- the competition's own files ----------------------------------------------------------

_T = TypeVar("_T")


def _lenient(
    strict: bool, read: Callable[[Competition], _T], competition: Competition, fallback: _T
) -> _T:
    """``read(competition)``; when not strict, a broken file is warned about, not fatal."""
    try:
        return read(competition)
    except CompetitionFilesError as error:
        if strict:
            raise
        log.warning("competition file unusable; validating the format only", problem=str(error))
        return fallback


def _sample_columns(competition: Competition) -> list[str]:
    try:
        return competition.sample_columns()
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise CompetitionFilesError(
            f"{competition.spec.id}: the sample submission {competition.paths.sample_submission} "
            f"cannot be read ({_reason(error)}); fix or replace that file"
        ) from None


def _read_answers(competition: Competition) -> pd.DataFrame | None:
    """The answers, checked to hold the id and target columns; None when there are none."""
    path = competition.answers_path
    if not path.is_file():
        return None
    if path.suffix.lower() != ".csv":
        raise CompetitionFilesError(
            f"{competition.spec.id}: the answers file {path} is not a CSV; only CSV answers "
            "are read here"
        )
    try:
        answers = competition.answers()
    except UserError:
        raise
    except Exception as error:  # pandas raises several types for a broken table
        raise CompetitionFilesError(
            f"{competition.spec.id}: the answers file {path} cannot be read ({_reason(error)}); "
            "fix or re-prepare it"
        ) from None
    _require_columns(competition, answers, path)
    _require_unique_ids(answers, competition.spec.id_column, path)
    return answers


def _reference_without_answers(competition: Competition) -> tuple[Path | None, pd.DataFrame | None]:
    """Without answers, the test ids come from the sample submission, else the test table."""
    spec = competition.spec
    candidates: list[Path] = []
    sample = competition.paths.sample_submission
    if sample is not None:
        candidates.append(sample)
    if spec.test_file:
        candidates.append(competition.paths.public_dir / spec.test_file)
    for path in candidates:
        if path.suffix.lower() != ".csv" or not path.is_file():
            continue
        try:
            header = pd.read_csv(path, nrows=0).columns
            if spec.id_column not in header:
                continue
            # Only the columns validation compares (a test table may be gigabytes of features).
            wanted = [c for c in [spec.id_column, *spec.target_columns] if c in header]
            table = pd.read_csv(path, usecols=wanted, dtype={spec.id_column: str}, **ROUND_TRIP)
        except Exception as error:  # pandas raises several types for a broken table
            raise CompetitionFilesError(
                f"{spec.id}: {path} cannot be read ({_reason(error)}); fix or replace that file"
            ) from None
        _require_unique_ids(table, spec.id_column, path)
        log.info("validating the format only", competition=spec.id, test_ids_from=str(path))
        return path, table
    log.warning("validating the format only, without a list of test ids", competition=spec.id)
    return None, None


def _require_columns(competition: Competition, table: pd.DataFrame, path: Path) -> None:
    spec = competition.spec
    missing = [c for c in [spec.id_column, *spec.target_columns] if c not in table.columns]
    if missing:
        raise CompetitionFilesError(
            f"{spec.id}: the answers file {path} lacks column(s) {_listing(missing)} that the "
            f"competition's spec names (it has {_listing(table.columns)}); fix the spec or "
            "re-prepare the answers"
        )


def _require_unique_ids(table: pd.DataFrame, id_column: str, path: Path) -> None:
    ids = table[id_column]
    if ids.isna().any() or ids.duplicated().any():
        raise CompetitionFilesError(
            f"{path}: the id column {id_column!r} has empty or repeated ids; the test ids must be "
            "unique, so fix or re-prepare that file"
        )


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


# --- reading the submission ---------------------------------------------------------------


def _read_submission(
    path: Path, id_column: str, columns: list[str] | None, size_limit: int, rows: int | None
) -> pd.DataFrame:
    """The submission as a table, after the stream checks; at most ``rows + 1`` rows parsed."""
    head = _check_stream(path, size_limit)
    header = _header(head, id_column)
    if columns is not None:
        _check_columns(header, columns)
    try:
        frame = pd.read_csv(
            path,
            dtype={id_column: str},
            encoding="utf-8-sig",
            nrows=None if rows is None else rows + 1,
            **ROUND_TRIP,
        )
    except Exception as error:  # pandas raises several types for malformed text
        raise _Invalid(f"the file could not be parsed as CSV: {_reason(error)}") from None
    if columns is not None:
        _check_columns([str(c) for c in frame.columns], columns)
    if rows is not None and len(frame) > rows:
        raise _Invalid(f"the file has more than {rows} rows, one per test id")
    return frame


def file_problem(path: Path, size_limit: int) -> str | None:
    """What makes ``path`` no submission before its content is read (absent, not a regular
    ``.csv`` file, over ``size_limit`` bytes); None when nothing does."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return f"no file at {path}"
    except OSError as error:
        return f"the file could not be read: {error.strerror or error}"
    return _stat_problem(path, info, size_limit)


def _stat_problem(path: Path, info: os.stat_result, size_limit: int) -> str | None:
    if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO (reading one would block), a device
        return f"no file at {path} (it is not a regular file)"
    if path.suffix.lower() != ".csv":
        return f"{path.name} is not a .csv file"
    if info.st_size > size_limit:
        return (
            f"the file is {info.st_size} bytes, over the limit of {size_limit} bytes; a "
            "submission holds one short row per test id"
        )
    return None


def _check_stream(path: Path, size_limit: int) -> bytes:
    """Size, encoding and NUL bytes, read in chunks; returns the file's first chunk."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise _Invalid(f"no file at {path}") from None
    except OSError as error:
        raise _Invalid(f"the file could not be read: {error.strerror or error}") from None
    problem = _stat_problem(path, os.fstat(fd), size_limit)
    if problem is not None:
        os.close(fd)
        raise _Invalid(problem)
    with os.fdopen(fd, "rb") as stream:
        head = stream.read(CHUNK)
        _check_encoding(head)
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk, offset, blank = head, 0, True
        try:
            while chunk:
                if b"\x00" in chunk:
                    raise _Invalid("the file holds NUL bytes: it is binary, not a CSV text file")
                decoder.decode(chunk)
                blank = blank and not chunk.strip()
                offset += len(chunk)
                chunk = stream.read(CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            at = offset + error.start
            raise _Invalid(
                f"the file is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
                f"{at}); save it as UTF-8 CSV"
            ) from None
        except OSError as error:
            raise _Invalid(f"the file could not be read: {error.strerror or error}") from None
    if blank:
        raise _Invalid("the file is empty; it needs a header line and one row per test id")
    return head


def _check_encoding(head: bytes) -> None:
    """Name the encodings a Windows tool writes, instead of calling them binary."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if head.startswith(bom):
            raise _Invalid(f"the file is {name} text; save it as UTF-8 CSV")
    sample = head[:200]
    if len(sample) >= 4 and sample.count(b"\x00") * 3 >= len(sample):
        raise _Invalid(
            "the file looks like UTF-16 text (every other byte is NUL); save it as UTF-8"
        )


def _header(head: bytes, id_column: str) -> list[str]:
    """The header line's names, read from the first chunk (any line ending: LF, CRLF, CR)."""
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    if not ends and len(head) >= min(CHUNK, HEADER_LIMIT):
        raise _Invalid(
            f"the header line is longer than {HEADER_LIMIT} bytes; it must name the columns"
        )
    line = head[: min(ends)] if ends else head
    text = line.decode("utf-8-sig", errors="replace")
    try:
        names = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as error:
        raise _Invalid(f"the header line could not be parsed as CSV: {error}") from None
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _Invalid(f"column(s) {_listing(repeated)} appear more than once in the header")
    return names


def _check_columns(header: list[str], expected: list[str]) -> None:
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    problems = []
    if missing:
        problems.append(f"missing column(s) {_listing(missing)}")
    if extra:
        problems.append(f"unexpected column(s) {_listing(extra)}")
    if problems:
        raise _Invalid(f"{'; '.join(problems)}; the columns must be {_listing(expected)}")


def _check_open_format(header: list[str], id_column: str, ids_source: Path | None) -> None:
    """Where nothing shows the submission's columns but a table lists the test ids under
    ``id_column``: any header is accepted that holds that column and at least one other."""
    where = f" (as {ids_source.name} does)" if ids_source is not None else ""
    if id_column not in header:
        raise _Invalid(
            f"missing the id column {id_column!r}{where}; the file needs it and one or more "
            f"columns of predictions (it has {_listing(header)})"
        )
    if len(header) < 2:
        raise _Invalid(f"only the id column {id_column!r}; add the column(s) of predictions")


# --- the rows -------------------------------------------------------------------------------


def _check_ids(submission: pd.DataFrame, expected: pd.Index, id_column: str) -> None:
    ids = submission[id_column]
    given = pd.Index(ids)
    plain = len(given) == len(expected) and given.is_unique and not given.hasnans
    if plain and (given.equals(expected) or bool((given.get_indexer(expected) >= 0).all())):
        return  # the usual case, decided by one hash join; the rest only explains
    if ids.isna().any():
        rows = _rows(ids.isna())
        raise _Invalid(f"column {id_column!r} is empty in {len(rows)} row(s): {_listing(rows)}")
    repeated = ids[ids.duplicated()].unique().tolist()
    if repeated:
        raise _Invalid(f"{len(repeated)} id(s) appear more than once: {_listing(repeated)}")
    found = pd.Index(ids).get_indexer(expected)  # one hash join; ids are unique by now
    missing = expected[found < 0].tolist()  # in the test set's order
    matched = int((found >= 0).sum())
    extra = ids[~ids.isin(expected)].tolist() if matched < len(ids) else []  # file's order
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} test id(s) missing: {_listing(missing)}")
        if extra:
            parts.append(f"{len(extra)} id(s) not in the test set: {_listing(extra)}")
        raise _Invalid("; ".join(parts))


def _check_column(submission: pd.DataFrame, column: str, rules: SubmissionRules) -> None:
    """No missing prediction, and every value inside the metric's domain."""
    competition = rules.competition
    values = submission[column]
    if _plainly_valid(values, competition.metric.domain, competition.spec.labels):
        return  # the usual case, decided on the raw array; the rest only explains
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
        kind = _reference_kind(rules.reference, column)
        if kind is not None:
            numbers = _numbers(values, ids, column, "labels that are numbers, as the answers' are")
            fractional = numbers % 1 != 0
            if kind == "integers" and fractional.any():
                raise _Invalid(
                    f"column {column!r} must hold whole-number labels, as the answers' are; "
                    f"{int(fractional.sum())} value(s) are not, "
                    f"first {_where(fractional, ids, values)}"
                )
        return
    numbers = _numbers(values, ids, column, "numbers")
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


# --- the plain path -------------------------------------------------------------------------

_PLAIN_DOMAINS = frozenset({"probability", "real", "non_negative", "integer_label"})
# A decimal number as both Python and pandas read it: no spaces, no "inf"/"nan", no "_".
_PLAIN_NUMBERS = re.compile(r"(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\n)*")
# pandas' default missing-value cells, compared case-blind and stripped (a superset is safe:
# an id among them only sends the file to the full checks).
_NA_LIKE = frozenset(
    {"", "na", "n/a", "nan", "-nan", "null", "none", "<na>", "#n/a", "#n/a n/a", "#na"}
    | {"-1.#ind", "-1.#qnan", "1.#ind", "1.#qnan"}
)


def _plainly_valid_text(text: str, rules: SubmissionRules, domain: str) -> bool:
    """The plain path's reading: no quote, ``\n`` or ``\r\n`` line ends, the expected
    columns once each, one full row per test id, every prediction a finite plain number in
    ``domain``. Anything else is left to the full checks (False)."""
    lines = text.replace("\r\n", "\n")
    if '"' in lines or "\r" in lines:
        return False
    header, *rows = lines.removesuffix("\n").split("\n")
    names = header.split(",")
    assert rules.columns is not None
    if len(names) != len(rules.columns) or set(names) != set(rules.columns):
        return False
    expected = rules._plain_ids
    if len(rows) != len(expected):
        return False
    table = [row.split(",") for row in rows]
    if any(len(cells) != len(names) for cells in table):
        return False
    at = names.index(rules.competition.spec.id_column)
    if {cells[at] for cells in table} != expected:  # as many rows as ids: none repeated
        return False
    for column in rules.competition.spec.target_columns:
        at = names.index(column)
        cells = [row[at] for row in table]
        if not _PLAIN_NUMBERS.fullmatch("\n".join(cells) + "\n"):
            return False
        values = np.fromiter(map(float, cells), dtype=float, count=len(cells))
        if not _inside(values, domain):
            return False
    return True


def _inside(values: np.ndarray, domain: str) -> bool:
    """Whether finite ``values`` all lie in ``domain`` (no declared labels to compare)."""
    if not np.isfinite(values).all():
        return False
    if domain == "probability":
        return bool(values.min(initial=0.0) >= 0 and values.max(initial=0.0) <= 1)
    if domain == "non_negative":
        return bool(values.min(initial=0.0) >= 0)
    if domain == "integer_label":
        return bool((np.mod(values, 1) == 0).all())
    return True


def _plainly_valid(values: pd.Series, domain: str, labels: list[int | str] | None) -> bool:
    """Whether a numeric column is clearly inside its domain (False: check it in detail)."""
    if domain in ("ranking", "label") or values.dtype.kind not in "fiu":
        return False
    if domain == "integer_label" and labels:
        return False
    return _inside(values.to_numpy(dtype=float), domain)


def _numbers(values: pd.Series, ids: pd.Series, column: str, what: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    not_numbers = numbers.isna()
    if not_numbers.any():
        raise _Invalid(
            f"column {column!r} must hold {what}; {int(not_numbers.sum())} value(s) are not, "
            f"first {_where(not_numbers, ids, values)}"
        )
    return numbers


def _reference_kind(reference: pd.DataFrame | None, column: str) -> str | None:
    """How the answers (or sample) hold ``column``'s labels: "integers", "numbers", or None
    (text, or unknown), which decides how a submission's labels compare with them."""
    if reference is None or column not in reference.columns:
        return None
    values = reference[column]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    array = values.to_numpy(dtype=float)
    finite = array[np.isfinite(array)]
    return "integers" if bool((np.mod(finite, 1) == 0).all()) else "numbers"


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
    return f"{shown}at row {position + 1} (id {_short(ids.iloc[position])})"


def _short(value: object) -> str:
    """``repr`` of a value, cut to a readable length (a script may write megabyte cells)."""
    if isinstance(value, np.generic):  # numpy scalars print as np.float64(...) otherwise
        value = value.item()
    if isinstance(value, float) and not math.isnan(value):
        return repr(value)
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[: SHOWN_CHARS - 3]}... ({len(str(value))} characters)"


def _listing(items: Iterable[object]) -> str:
    """A few items quoted, then how many more: 'a', 'b', 'c' and 12 more."""
    items = list(items)
    shown = ", ".join(_short(i) for i in items[:SHOWN])
    rest = len(items) - SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown
