"""Grading through the real CLI (typer's runner and one real process): MLE-bench's report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from competition_malformed import (
    DOMAIN_EDITS,
    FRAME_EDITS,
    RAW_FILES,
    write_domain_edit,
    write_frame_edit,
    write_raw,
)
from competition_tiny import TASKS
from typer.testing import CliRunner

from mlmaster.cli.app import app

REPORT_FIELDS = {
    "competition_id",
    "score",
    "gold_threshold",
    "silver_threshold",
    "bronze_threshold",
    "median_threshold",
    "any_medal",
    "gold_medal",
    "silver_medal",
    "bronze_medal",
    "above_median",
    "submission_exists",
    "valid_submission",
    "is_lower_better",
    "created_at",
    "submission_path",
}

runner = CliRunner()


def grade(data_dir: Path, competition: str, submission: Path) -> dict[str, Any]:
    result = runner.invoke(
        app, ["grade", competition, str(submission), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("task", sorted(TASKS))
def test_sample_is_valid_without_medal_and_answers_win_gold(
    task: str, data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    root = make_competition(task)
    sample = grade(data_dir, task, root / "prepared" / "public" / "sample_submission.csv")
    assert set(sample) >= REPORT_FIELDS
    assert sample["valid_submission"] and sample["submission_exists"]
    assert not sample["any_medal"] and not sample["above_median"]
    assert sample["normalized_score"] < 0
    gold = grade(data_dir, task, root / "prepared" / "private" / "answers.csv")
    assert gold["gold_medal"] and gold["any_medal"] and gold["above_median"]
    assert not gold["silver_medal"] and not gold["bronze_medal"]
    assert gold["normalized_score"] > 1
    assert gold["is_lower_better"] == (gold["gold_threshold"] < gold["median_threshold"])


def test_score_matches_the_metric_and_is_rounded(
    data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    root = make_competition("rmse")
    report = grade(data_dir, "rmse", root / "prepared" / "public" / "sample_submission.csv")
    assert report["is_lower_better"] is True
    assert report["score"] == round(report["score"], 5)
    assert report["score"] > 5  # the mean predictor's RMSE on N(50, 10) targets


@pytest.mark.parametrize("variant", sorted(FRAME_EDITS))
def test_malformed_tables_are_invalid_with_a_precise_message(
    variant: str, data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    root = make_competition("auc")
    report = grade(data_dir, "auc", write_frame_edit(root, variant, tmp_path))
    assert report["submission_exists"] is True
    assert report["valid_submission"] is False
    assert report["score"] is None and not report["any_medal"]
    assert report["validation_message"].startswith("Submission invalid! ")
    assert FRAME_EDITS[variant][1] in report["validation_message"]


def test_wrong_ids_message_names_them(
    data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    root = make_competition("auc")
    message = grade(data_dir, "auc", write_frame_edit(root, "wrong_ids", tmp_path))[
        "validation_message"
    ]
    assert "'zz1', 'zz2', 'zz3'" in message


@pytest.mark.parametrize("variant", sorted(DOMAIN_EDITS))
def test_domain_rules_are_enforced(
    variant: str, data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    task, _, expected = DOMAIN_EDITS[variant]
    root = make_competition(task)
    report = grade(data_dir, task, write_domain_edit(root, variant, tmp_path))
    assert report["valid_submission"] is False
    assert expected in report["validation_message"]
    assert "row 5 (id " in report["validation_message"]


@pytest.mark.parametrize("variant", sorted(RAW_FILES))
def test_garbage_files_are_invalid_not_crashes(
    variant: str, data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    make_competition("auc")
    report = grade(data_dir, "auc", write_raw(variant, tmp_path))
    assert report["valid_submission"] is False
    assert RAW_FILES[variant][1] in report["validation_message"]


def test_missing_or_non_csv_file_does_not_exist(
    data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    root = make_competition("auc")
    absent = grade(data_dir, "auc", tmp_path / "nothing.csv")
    assert absent["submission_exists"] is False and absent["valid_submission"] is False
    renamed = tmp_path / "submission.txt"
    renamed.write_bytes((root / "prepared" / "public" / "sample_submission.csv").read_bytes())
    assert grade(data_dir, "auc", renamed)["submission_exists"] is False


def test_rows_in_any_order_grade_the_same(
    data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    import pandas as pd

    root = make_competition("qwk")
    answers = pd.read_csv(root / "prepared" / "private" / "answers.csv")
    shuffled = tmp_path / "shuffled.csv"
    answers.sample(frac=1.0, random_state=3).to_csv(shuffled, index=False)
    report = grade(data_dir, "qwk", shuffled)
    assert report["score"] == 1.0 and report["gold_medal"]


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    return subprocess.run(
        [sys.executable, "-m", "mlmaster", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_real_process_exit_codes(
    data_dir: Path, make_competition: Callable[[str], Path], tmp_path: Path
) -> None:
    make_competition("auc")
    make_competition("qwk")
    empty = write_raw("empty", tmp_path)
    graded = _run_cli("grade", "auc", str(empty), "--data-dir", str(data_dir))
    assert graded.returncode == 0, graded.stderr
    assert json.loads(graded.stdout)["valid_submission"] is False
    unknown = _run_cli("grade", "no-such", str(empty), "--data-dir", str(data_dir))
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "unknown competition 'no-such'" in unknown.stderr
    assert "auc, qwk" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_data_dir_defaults_to_settings(
    data_dir: Path, make_competition: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_competition("mae")
    monkeypatch.setenv("MLMASTER_RUN__DATA_DIR", str(data_dir))
    result = runner.invoke(
        app, ["grade", "mae", str(root / "prepared" / "private" / "answers.csv")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["score"] == 0.0
