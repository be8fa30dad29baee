"""The plain path of validation: a small plain file is accepted without pandas, and only where
every full check would accept it (the verdict is the same with the path and without it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from competition_tiny import write_competition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.validation import SubmissionRules

# Tiny competitions whose predictions are numbers: probabilities, reals, non-negative reals.
NUMERIC = ["auc", "logloss", "logloss-multi", "rmse", "rmsle"]

# Cells the plain path must not misread: what pandas reads as missing, not finite, not a number,
# or a number only Python reads; values at the edges of [0, 1]; quotes and spaces.
TRICKY = [
    *["nan", "NaN", "NA", "", "None", "null", "#N/A", "<NA>", "n/a"],
    *["inf", "-inf", "Infinity", "1e400", "-1e400", "1_0", "0x1", "\u0663", "1,5"],
    *[" 0.5", "0.5 ", '"0.5"', "+.5", "-0", "1.", ".5", "1E+0", "2", "-1", "-1e-320"],
    *["1.0000000000000001", "1.00000000000000023", "0.99999999999999999", "-0.0000001"],
]
BREAKS = ["\n", "\r\n", "\r", "\n\n", ",", ", ", '"', "\u2028", "\x85", "\ufeff", " "]


def _competition(root: Path, name: str) -> Competition:
    data = root / "data"
    if not (data / name).exists():
        data.mkdir(exist_ok=True)
        write_competition(data, name)
    return load_competition(data, name)


def _rows(competition: Competition) -> list[list[str]]:
    text = competition.paths.sample_submission.read_text()
    return [line.split(",") for line in text.splitlines()]


@pytest.mark.parametrize("name", NUMERIC)
def test_a_plain_numeric_submission_takes_the_plain_path(tmp_path: Path, name: str) -> None:
    competition = _competition(tmp_path, name)
    rules = SubmissionRules.of(competition)
    rows = _rows(competition)
    header, body = rows[0], rows[1:]
    shuffled = [header, *reversed(body)]  # any row order
    for line_end in ("\n", "\r\n"):
        path = tmp_path / "submission.csv"
        path.write_text(line_end.join(",".join(r) for r in shuffled) + line_end)
        assert rules.plainly_valid(path)
        assert rules.check(path).is_valid
        assert rules.check(path, quick=False).is_valid


@pytest.mark.parametrize("name", ["accuracy", "qwk", "map"])
def test_labels_and_rankings_are_left_to_the_full_checks(tmp_path: Path, name: str) -> None:
    competition = _competition(tmp_path, name)
    rules = SubmissionRules.of(competition)
    path = tmp_path / "submission.csv"
    path.write_bytes(competition.paths.sample_submission.read_bytes())
    assert not rules.plainly_valid(path)
    assert rules.check(path).is_valid


def test_an_empty_or_binary_file_is_refused_as_the_full_checks_refuse_it(tmp_path: Path) -> None:
    rules = SubmissionRules.of(_competition(tmp_path, "logloss"))
    for content in (b"", b"id,target\n\x00\x01", "id,target\n".encode("utf-16")):
        path = tmp_path / "submission.csv"
        path.write_bytes(content)
        assert rules.check(path) == rules.check(path, quick=False)
        assert not rules.check(path).is_valid


@pytest.mark.parametrize("name", NUMERIC)
def test_one_tricky_cell_gets_the_verdict_of_the_full_checks(tmp_path: Path, name: str) -> None:
    competition = _competition(tmp_path, name)
    rules = SubmissionRules.of(competition)
    header, *body = _rows(competition)
    path = tmp_path / "submission.csv"
    for column in range(len(header)):  # the id column, then each prediction column
        for token in TRICKY:
            edited = [cells.copy() for cells in body]
            edited[len(edited) // 2][column] = token
            path.write_text("\n".join(",".join(r) for r in [header, *edited]) + "\n")
            assert rules.check(path) == rules.check(path, quick=False), (column, token)


@pytest.mark.parametrize("id_text", ["nan", "NA", "None", ""])
def test_a_test_id_pandas_reads_as_missing_keeps_files_off_the_plain_path(
    tmp_path: Path, id_text: str
) -> None:
    # Answers given as a table (a holdout's) may hold an id a CSV reader takes for missing.
    competition = _competition(tmp_path, "rmse")
    answers = pd.read_csv(competition.answers_path, dtype={"id": str})
    answers.loc[0, "id"] = id_text
    rules = SubmissionRules.of(competition, answers=answers)
    path = tmp_path / "submission.csv"
    path.write_text(answers.to_csv(index=False))
    assert not rules.plainly_valid(path)
    assert rules.check(path) == rules.check(path, quick=False)
    assert not rules.check(path).is_valid  # the full checks read that id as an empty one


EDITS = st.lists(
    st.one_of(
        st.tuples(
            st.just("cell"), st.integers(0, 10**6), st.integers(0, 10), st.sampled_from(TRICKY)
        ),
        st.tuples(st.just("copy_id"), st.integers(0, 10**6), st.integers(0, 10**6)),
        st.tuples(st.just("drop_row"), st.integers(0, 10**6)),
        st.tuples(st.just("break"), st.integers(0, 10**6), st.sampled_from(BREAKS)),
    ),
    max_size=4,
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(NUMERIC), edits=EDITS, line_end=st.sampled_from(["\n", "\r\n"]))
def test_the_plain_path_never_changes_a_verdict(
    tmp_path: Path, name: str, edits: list[tuple[object, ...]], line_end: str
) -> None:
    competition = _competition(tmp_path, name)
    rules = SubmissionRules.of(competition)
    header, *body = _rows(competition)
    breaks: list[tuple[int, str]] = []
    for edit in edits:
        match edit:
            case ("cell", int(row), int(column), str(token)):
                cells = body[row % len(body)]
                cells[column % len(cells)] = token
            case ("copy_id", int(source), int(target)):
                body[target % len(body)][0] = body[source % len(body)][0]
            case ("drop_row", int(row)) if len(body) > 1:
                del body[row % len(body)]
            case ("break", int(at), str(piece)):
                breaks.append((at, piece))
    text = line_end.join(",".join(r) for r in [header, *body]) + line_end
    for at, piece in breaks:
        at %= len(text) + 1
        text = text[:at] + piece + text[at:]
    path = tmp_path / "submission.csv"
    path.write_text(text, encoding="utf-8")

    assert rules.check(path) == rules.check(path, quick=False)
