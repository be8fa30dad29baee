"""Where a public folder keeps its sample submission, if it keeps one at all.

MLE-bench's public folders name it ``sample_submission.csv`` most of the time, but not always:
``sampleSubmission.csv``, ``kaggle_sample_submission.csv``, ``sample_submission_null.csv``,
``randomPredictions.csv``; ``en_sample_submission_2.csv.zip`` and ``sample_submission.csv.7z``
(inside an archive); or none at all. :func:`find_sample` tries the usual names, then name
patterns, then archives, and otherwise says there is none: a run never refuses to start for
want of one (the format then comes from the description, and the validation server decides).

Archives are read where the standard library can (zip, gzip); a ``.7z`` is named but not
opened (no 7z reader is installed), and the header is then unknown.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from mlmaster.logs import get_logger

log = get_logger(__name__)

# Exact names first (MLE-bench's usual ones), then patterns, most specific first.
USUAL_NAMES = ("sample_submission.csv", "sampleSubmission.csv")
_CSV_PATTERNS = (
    re.compile(r"sample.*submission.*\.csv$", re.I),
    re.compile(r"submission.*\.csv$|.*submission\.csv$", re.I),
    re.compile(r"random.*predictions?.*\.csv$|.*predictions?\.csv$", re.I),
)
_ARCHIVE_PATTERN = re.compile(
    r".*(sample|submission).*\.csv\.(zip|gz|7z)$|.*submission.*\.(zip|7z)$", re.I
)
SEVEN_ZIP_PROBLEM = "it is a 7z archive, which no installed library opens"
HEADER_BYTES = 64 * 1024  # a header line longer than this is not a sample submission's


class SampleSubmission(BaseModel):
    """The sample submission as found: a CSV in the folder, a CSV inside an archive, or none."""

    model_config = ConfigDict(frozen=True)

    file: str | None = None  # relative to the public folder: the CSV or the archive holding it
    member: str | None = None  # the CSV inside ``file`` when ``file`` is an archive
    columns: list[str] | None = None  # its header, when it could be read
    problem: str | None = None  # why the header could not be read, when it could not

    @property
    def found(self) -> bool:
        return self.file is not None

    @property
    def in_archive(self) -> bool:
        return self.member is not None or bool(self.file and _is_archive(self.file))

    def describe(self) -> str:
        """One line for prompts and logs: where it is and how to read it."""
        return describe_sample(self.file, self.member, self.problem)


def describe_sample(file: str | None, member: str | None, problem: str | None = None) -> str:
    """Where the sample submission is and how to read it, in one line for a prompt."""
    if file is None:
        return (
            "There is no sample submission in ./input: take the submission's format "
            "(columns, one row per test id) from the task description."
        )
    where = f"./input/{file}"
    if not _is_archive(file):
        return f"The sample submission is {where}; the submission must have its format."
    if problem is None and file.lower().endswith(".7z"):
        problem = SEVEN_ZIP_PROBLEM
    inside = f" (it holds {member})" if member else ""
    text = f"The sample submission is only inside the archive {where}{inside}"
    if problem:
        return f"{text}; {problem}. Take the format from the task description."
    return f"{text}; read it from the archive (or extract it under ./working) for the format."


def find_sample(public_dir: Path) -> SampleSubmission:
    """The sample submission of ``public_dir`` (top level only), or one that says it is absent."""
    root = public_dir.resolve()
    names = sorted(
        p.name
        for p in public_dir.iterdir()
        # A link out of the folder is no part of the competition's data (and may point at
        # anything on the host): never read through one.
        if not p.name.startswith(".") and p.is_file() and p.resolve().is_relative_to(root)
    )
    chosen = _choose(names)
    if chosen is None:
        log.warning("no sample submission found", folder=str(public_dir))
        return SampleSubmission()
    return sample_at(public_dir, chosen)


def sample_at(public_dir: Path, file: str | None) -> SampleSubmission:
    """The sample submission named ``file`` (a CSV or an archive holding one) in ``public_dir``."""
    if file is None:
        return SampleSubmission()
    path = public_dir / file
    if not _is_archive(file):
        columns, problem = _csv_header(path)
        return SampleSubmission(file=file, columns=columns, problem=problem)
    member, columns, problem = _archive_header(path)
    return SampleSubmission(file=file, member=member, columns=columns, problem=problem)


def _choose(names: list[str]) -> str | None:
    for usual in USUAL_NAMES:
        if usual in names:
            return usual
    for pattern in _CSV_PATTERNS:
        matches = [n for n in names if pattern.match(n)]
        if matches:
            return min(matches, key=lambda n: (len(n), n))
    archives = [n for n in names if _ARCHIVE_PATTERN.match(n)]
    return min(archives, key=lambda n: (len(n), n)) if archives else None


def _is_archive(name: str) -> bool:
    return name.lower().endswith((".zip", ".gz", ".7z"))


def _csv_header(path: Path) -> tuple[list[str] | None, str | None]:
    try:
        with path.open("rb") as stream:
            return _parse_header(stream.read(HEADER_BYTES)), None
    except (OSError, ValueError) as error:
        return None, f"its header could not be read ({error})"


def _archive_header(path: Path) -> tuple[str | None, list[str] | None, str | None]:
    """The CSV member inside an archive and its header; a problem when it cannot be read."""
    lower = path.name.lower()
    if lower.endswith(".7z"):
        return path.name[:-3], None, SEVEN_ZIP_PROBLEM
    try:
        if lower.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                return path.name[:-3], _parse_header(stream.read(HEADER_BYTES)), None
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if not members:
                return None, None, "it holds no CSV file"
            member = min(members, key=lambda i: len(i.filename))
            with archive.open(member) as stream:
                return member.filename, _parse_header(stream.read(HEADER_BYTES)), None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        return None, None, f"the archive could not be read ({type(error).__name__})"


def _parse_header(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text else ""
    header = next(csv.reader(io.StringIO(first)), [])
    if not header:
        raise ValueError("it is empty")
    return [name.strip() for name in header]
