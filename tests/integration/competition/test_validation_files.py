"""Validation on awkward files and awkward competitions: line endings and encodings a Windows
tool writes, files far too big, a competition without its answers, and broken answers files
(which are the competition's fault, never the submission's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from competition_tiny import write_competition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.validation import (
    CompetitionFilesError,
    SubmissionRules,
    check_and_score,
    validate_submission,
)


@pytest.fixture
def auc(data_dir: Path, make_competition: Callable[[str], Path]) -> Competition:
    make_competition("auc")
    return load_competition(data_dir, "auc")


def _sample_text(competition: Competition) -> str:
    return competition.paths.sample_submission.read_text()


def test_cr_only_and_crlf_line_endings_are_read_as_lines(auc: Competition, tmp_path: Path) -> None:
    lines = _sample_text(auc).splitlines()
    for name, ending in (("cr", "\r"), ("crlf", "\r\n")):
        path = tmp_path / f"{name}.csv"
        path.write_bytes(ending.join(lines).encode() + ending.encode())
        assert validate_submission(auc, path).is_valid, name
    broken = tmp_path / "cr-broken.csv"
    broken.write_bytes("\r".join(lines[:-1]).encode() + b"\r")  # one row short
    assert "1 test id(s) missing" in validate_submission(auc, broken).message


def test_utf16_is_named_as_such(auc: Competition, tmp_path: Path) -> None:
    text = _sample_text(auc)
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(text.encode("utf-16"))
    without_bom = tmp_path / "le.csv"
    without_bom.write_bytes(text.encode("utf-16-le"))
    utf8_bom = tmp_path / "utf8-bom.csv"
    utf8_bom.write_bytes(text.encode("utf-8-sig"))
    assert "UTF-16 text; save it as UTF-8" in validate_submission(auc, with_bom).message
    assert "looks like UTF-16" in validate_submission(auc, without_bom).message
    assert validate_submission(auc, utf8_bom).is_valid


def test_a_file_over_the_size_limit_is_invalid_without_being_read(
    auc: Competition, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:  # sparse: 4 GB on paper, nothing on disk
        stream.truncate(4 * 1024**3)
    outcome = SubmissionRules.of(auc, size_limit=512 * 1024**2).check(huge)
    assert not outcome.is_valid
    assert f"the file is {4 * 1024**3} bytes, over the limit of {512 * 1024**2}" in outcome.message


def test_a_huge_submission_is_checked_in_bounded_memory(auc: Competition, tmp_path: Path) -> None:
    """A script that writes 60 MB of rows (the test set has 40) costs the orchestrator little:
    the file is streamed and no more rows are parsed than the test set has, plus one."""
    big = tmp_path / "big.csv"
    row = b"r100,0.5\n"
    with big.open("wb") as stream:
        stream.write(b"id,target\n")
        block = row * 100_000
        while stream.tell() < 60 * 1024**2:
            stream.write(block)
    probe = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from mlmaster.competition.layout import load_competition
        from mlmaster.competition.validation import SubmissionRules
        rules = SubmissionRules.of(load_competition(Path({str(auc.paths.root.parent)!r}), "auc"))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        outcome = rules.check(Path({str(big)!r}))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(outcome.message)
        print((after - before) * 1024)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    message, grown = done.stdout.strip().splitlines()[-2:]
    assert "more than 40 rows" in message
    assert int(grown) < 20 * 1024**2, f"validation grew the process by {int(grown)} bytes"


# --- without the answers ---------------------------------------------------------------------


def test_without_answers_the_format_is_checked_against_the_sample(
    auc: Competition, tmp_path: Path
) -> None:
    sample = pd.read_csv(auc.paths.sample_submission, dtype={"id": str})
    auc.answers_path.unlink()
    rules = SubmissionRules.of(auc)
    assert rules.format_only
    assert rules.check(auc.paths.sample_submission).is_valid
    wrong = tmp_path / "wrong.csv"
    sample.assign(id=sample["id"] + "x").to_csv(wrong, index=False)
    assert "test id(s) missing" in rules.check(wrong).message
    out_of_range = tmp_path / "range.csv"
    sample.assign(target=3.0).to_csv(out_of_range, index=False)
    assert "must lie in [0, 1]" in rules.check(out_of_range).message
    with pytest.raises(CompetitionFilesError, match="grading needs the private split"):
        rules.check_and_score(auc.paths.sample_submission)


def test_answers_under_another_name_never_invalidate_a_run_s_nodes(
    auc: Competition, tmp_path: Path
) -> None:
    auc.answers_path.rename(auc.paths.private_dir / "test.csv")  # MLE-bench names it so, often
    assert SubmissionRules.of(auc, strict=False).check(auc.paths.sample_submission).is_valid


def test_a_broken_answers_file_is_named_strictly_and_only_warned_about_in_a_run(
    auc: Competition,
) -> None:
    auc.answers_path.write_text("row,prediction\n1,2\n")
    with pytest.raises(
        CompetitionFilesError, match=r"answers\.csv lacks column\(s\) 'id', 'target'"
    ):
        SubmissionRules.of(auc)
    lenient = SubmissionRules.of(auc, strict=False)
    assert lenient.format_only and lenient.check(auc.paths.sample_submission).is_valid


def test_repeated_ids_in_the_answers_are_the_competition_s_fault(auc: Competition) -> None:
    answers = pd.read_csv(auc.answers_path, dtype={"id": str})
    answers.loc[1, "id"] = answers.loc[0, "id"]
    answers.to_csv(auc.answers_path, index=False)
    with pytest.raises(CompetitionFilesError, match="empty or repeated ids"):
        check_and_score(auc, auc.paths.sample_submission)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x01garbage\xff", "answers.csv cannot be read"),
        (b"id,other\nr1,1\n", "answers.csv lacks column(s) 'target'"),
    ],
)
def test_grade_with_a_broken_answers_file_says_so_in_one_line(
    auc: Competition, data_dir: Path, content: bytes, expected: str
) -> None:
    auc.answers_path.write_bytes(content)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlmaster",
            "grade",
            "auc",
            str(auc.paths.sample_submission),
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mlmaster: ") and expected in lines[0]
    assert str(auc.answers_path) in lines[0]


# --- checks alone decide validity: scoring never disagrees ------------------------------------

PIECES = st.sampled_from(["0.5", "1", "0", "-1", "2", "nan", "", "x", "1e400", "r100", "r999"])


@pytest.mark.parametrize("task", ["auc", "accuracy", "f1-macro", "qwk", "logloss-multi", "map"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_submission_the_checks_pass_is_always_scorable(
    data: st.DataObject, task: str, tmp_path: Path
) -> None:
    """Runs validate without scoring (it is the slow part); that is sound only if every file
    the checks accept can be scored, so the grader's verdict equals the validator's."""
    data_dir = tmp_path / "data"
    if not (data_dir / task).exists():
        data_dir.mkdir(exist_ok=True)
        write_competition(data_dir, task)
    competition = load_competition(data_dir, task)
    sample = pd.read_csv(competition.paths.sample_submission, dtype={"id": str}).astype(object)
    for row in data.draw(st.lists(st.integers(0, len(sample) - 1), max_size=4)):
        sample.loc[row, data.draw(st.sampled_from(list(sample.columns)))] = data.draw(PIECES)
    if data.draw(st.booleans()):
        sample = sample.drop(index=data.draw(st.integers(0, len(sample) - 1)))
    path = tmp_path / "drawn.csv"
    sample.to_csv(path, index=False)
    rules = SubmissionRules.of(competition)
    assert rules.check(path) == rules.check_and_score(path).outcome


def test_the_report_names_why_in_json(auc: Competition, tmp_path: Path) -> None:
    from mlmaster.competition.grading import grade_submission

    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes(_sample_text(auc).encode("utf-16"))
    report = json.loads(grade_submission(auc, wrong).model_dump_json())
    assert report["valid_submission"] is False and "UTF-16" in report["validation_message"]


def test_an_unknown_format_never_invalidates_a_parseable_submission(
    auc: Competition, tmp_path: Path
) -> None:
    """No sample submission, no answers, no target columns known (a bare folder whose
    description shows no header): whatever parses as CSV is valid, junk still is not."""
    spec = auc.spec.model_copy(update={"target_columns": [], "sample_submission_file": None})
    paths = auc.paths.model_copy(update={"sample_submission": None})
    auc.answers_path.unlink()
    unknown = Competition(spec=spec, paths=paths)
    rules = SubmissionRules.of(unknown, strict=False)
    assert rules.columns is None and rules.format_only
    any_format = tmp_path / "any.csv"
    any_format.write_text("image,label,score\na.png,cat,0.9\n")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02")
    assert rules.check(any_format).is_valid
    assert not rules.check(junk).is_valid


def test_a_folder_without_a_sample_accepts_any_header_holding_the_id_and_test_ids(
    tmp_path: Path,
) -> None:
    """A public folder as MLE-bench prepares it, with no sample submission and a description
    that shows no header: the test table names the id column and the ids, so a submission
    must hold that column and those ids; its other columns are free."""
    public = tmp_path / "data" / "bare" / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "description.md").write_text("# Bare\n\nPredict what you can.\n")
    pd.DataFrame({"id": [1, 2, 3, 4], "x": [0.1, 0.2, 0.3, 0.4], "y": [0, 1, 0, 1]}).to_csv(
        public / "train.csv", index=False
    )
    pd.DataFrame({"id": [10, 11, 12], "x": [0.5, 0.6, 0.7]}).to_csv(
        public / "test.csv", index=False
    )
    bare = load_competition(tmp_path / "data", "bare")
    assert bare.paths.sample_submission is None and bare.spec.target_columns == []
    rules = SubmissionRules.of(bare, strict=False)
    assert rules.columns is None and rules.ids is not None

    def verdict(text: str) -> str:
        path = tmp_path / "submission.csv"
        path.write_text(text)
        return SubmissionRules.of(bare, strict=False).check(path).message

    assert verdict("id,y\n12,1\n10,0\n11,1\n") == "Submission is valid."
    assert verdict("label,id,p_a,p_b\nx,10,0.1,0.9\ny,11,1,0\nz,12,0.5,0.5\n").endswith("valid.")
    assert "missing the id column 'id' (as test.csv does)" in verdict("row,y\n10,1\n11,0\n12,1\n")
    assert "only the id column" in verdict("id\n10\n11\n12\n")
    assert "1 test id(s) missing: '12'" in verdict("id,y\n10,1\n11,0\n")
    assert "not in the test set: '99'" in verdict("id,y\n10,1\n11,0\n99,1\n")
