"""Loading a prepared competition: our competition.json, MLE-bench's config.yaml, clear errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import (
    available_competitions,
    load_competition,
    require_prepared,
)
from mlmaster.errors import UserError


def test_loads_spec_paths_leaderboard_and_description(
    data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    root = make_competition("qwk")
    competition = load_competition(data_dir, "qwk")
    assert competition.spec.metric == "qwk" and competition.spec.labels == [1, 2, 3, 4, 5]
    assert competition.paths.public_dir == root / "prepared" / "public"
    assert competition.paths.private_dir == root / "prepared" / "private"
    assert competition.answers_path == root / "prepared" / "private" / "answers.csv"
    assert competition.leaderboard is not None and len(competition.leaderboard.scores) == 30
    assert competition.description().startswith("# qwk")
    assert competition.sample_columns() == ["id", "y"]
    assert all(isinstance(i, str) for i in competition.answers()["id"])  # ids compared as text


def test_description_falls_back_to_the_spec(
    data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    root = make_competition("rmse")
    (root / "prepared" / "public" / "description.md").unlink()
    text = load_competition(data_dir, "rmse").description()
    assert "rmse (lower is better)" in text and "columns id, y" in text


def test_no_leaderboard_grades_without_thresholds(
    data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    root = make_competition("mae")
    (root / "leaderboard.csv").unlink()
    competition = load_competition(data_dir, "mae")
    report = grade_submission(competition, competition.answers_path)
    assert report.valid_submission and report.score == 0.0
    assert report.gold_threshold is None and not report.any_medal
    assert report.normalized_score is None


def _mlebench_competition(data_dir: Path, grader: str) -> Path:
    """A spooky-like MLE-bench folder: config.yaml, one probability column per author."""
    root = data_dir / "spooky-like"
    public, private = root / "prepared" / "public", root / "prepared" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    rng = np.random.default_rng(1)
    authors = np.eye(3, dtype=int)[rng.integers(0, 3, 30)]
    ids = [f"id{i:05d}" for i in range(30)]
    answers = pd.DataFrame(authors, columns=["EAP", "HPL", "MWS"]).assign(id=ids)
    answers[["id", "EAP", "HPL", "MWS"]].to_csv(private / "test.csv", index=False)
    sample = pd.DataFrame({"id": ids, "EAP": 0.403, "HPL": 0.287, "MWS": 0.31})
    sample.to_csv(public / "sampleSubmission.csv", index=False)  # as five MLE-bench ones name it
    config = {
        "id": "spooky-like",
        "name": "Spooky Like",
        "competition_type": "simple",
        "awards_medals": True,
        "dataset": {
            "answers": "spooky-like/prepared/private/test.csv",
            "sample_submission": "spooky-like/prepared/public/sampleSubmission.csv",
        },
        "grader": {"name": grader, "grade_fn": "mlebench.competitions.x.grade:grade"},
        "preparer": "mlebench.competitions.x.prepare:prepare",
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    leaderboard = pd.DataFrame({"score": np.linspace(0.2, 1.1, 40), "teamId": range(40)})
    leaderboard.to_csv(root / "leaderboard.csv", index=False)
    return root


def test_mlebench_config_yaml_is_mapped(data_dir: Path) -> None:
    root = _mlebench_competition(data_dir, "multi-class-log-loss")
    competition = load_competition(data_dir, "spooky-like")
    spec = competition.spec
    assert (spec.metric, spec.lower_is_better, spec.id_column) == ("log_loss", True, "id")
    assert spec.target_columns == ["EAP", "HPL", "MWS"]
    assert competition.answers_path == root / "prepared" / "private" / "test.csv"
    assert competition.paths.sample_submission.name == "sampleSubmission.csv"
    gold = grade_submission(competition, competition.answers_path)
    assert gold.gold_medal and gold.is_lower_better
    sample = grade_submission(competition, competition.paths.sample_submission)
    assert sample.valid_submission and not sample.any_medal


def test_mlebench_config_with_unknown_grader_infers_the_metric(data_dir: Path) -> None:
    root = _mlebench_competition(data_dir, "jaccard-similarity")
    (root / "prepared" / "public" / "description.md").write_text(
        "## Evaluation\nSubmissions are scored by multi-class logarithmic loss.\n"
    )
    spec = load_competition(data_dir, "spooky-like").spec
    assert (spec.metric, spec.lower_is_better, spec.answers_file) == ("log_loss", True, "test.csv")


def test_prepared_folder_alone_is_inferred_and_graded(data_dir: Path) -> None:
    """What `mlebench prepare` leaves without the mlebench package: only prepared/."""
    root = _mlebench_competition(data_dir, "multi-class-log-loss")
    (root / "config.yaml").unlink()
    (root / "leaderboard.csv").unlink()
    (root / "prepared" / "public" / "description.md").write_text(
        "## Evaluation\nSubmissions are scored by multi-class logarithmic loss.\n"
    )
    competition = load_competition(data_dir, "spooky-like")
    spec = competition.spec
    assert (spec.metric, spec.lower_is_better, spec.answers_file) == ("log_loss", True, "test.csv")
    assert spec.sample_submission_file == "sampleSubmission.csv"
    assert competition.leaderboard is None
    gold = grade_submission(competition, competition.answers_path)
    assert gold.valid_submission and gold.gold_threshold is None


def test_config_and_leaderboard_come_from_the_mlebench_package(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed ``mlebench`` keeps config.yaml and leaderboard.csv inside its package."""
    root = _mlebench_competition(data_dir, "multi-class-log-loss")
    package = tmp_path / "site" / "mlebench"
    entry = package / "competitions" / "spooky-like"
    entry.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "registry.py").write_text(
        "from pathlib import Path\n"
        "class Registry:\n"
        "    def get_competitions_dir(self):\n"
        "        return Path(__file__).parent / 'competitions'\n"
        "registry = Registry()\n"
    )
    shutil.move(root / "config.yaml", entry / "config.yaml")
    shutil.move(root / "leaderboard.csv", entry / "leaderboard.csv")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    competition = load_competition(data_dir, "spooky-like")
    assert competition.spec.name == "Spooky Like" and competition.spec.metric == "log_loss"
    assert competition.leaderboard is not None and len(competition.leaderboard.scores) == 40
    assert grade_submission(competition, competition.answers_path).gold_medal


def test_leaderboard_sets_the_direction_of_an_inferred_spec(data_dir: Path) -> None:
    root = _mlebench_competition(data_dir, "multi-class-log-loss")
    (root / "config.yaml").unlink()
    (root / "prepared" / "public" / "description.md").write_text("## Evaluation\nAccuracy.\n")
    spec = load_competition(data_dir, "spooky-like").spec  # rows run 0.2 .. 1.1: lower wins
    assert spec.lower_is_better


def test_unknown_competition_lists_the_available_ones(
    data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    make_competition("auc")
    make_competition("rmse")
    assert available_competitions(data_dir) == ["auc", "rmse"]
    with pytest.raises(UserError, match=r"unknown competition 'nope'.*auc, rmse"):
        load_competition(data_dir, "nope")
    with pytest.raises(UserError, match="does not exist"):
        load_competition(data_dir / "absent", "auc")


def test_a_campaign_names_every_unknown_competition_at_once(
    data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    make_competition("auc")
    require_prepared(data_dir, ["auc"])  # all there: nothing to say
    with pytest.raises(UserError, match=r"unknown competition 'nope': .*competitions in .*: auc"):
        require_prepared(data_dir, ["auc", "nope"])
    with pytest.raises(UserError, match=r"unknown competitions 'a', 'b': .* there: auc"):
        require_prepared(data_dir, ["a", "auc", "b"])
    with pytest.raises(UserError, match="does not exist"):
        require_prepared(data_dir / "absent", ["auc"])


@pytest.mark.parametrize(
    ("removed", "expected"),
    [
        ("prepared/public", "public is missing"),
        ("prepared/private", r"the answers\) is missing"),
        ("prepared/private/answers.csv", "the answers file .* is missing"),
        ("prepared/public/sample_submission.csv", "sample_submission.csv is missing"),
    ],
)
def test_missing_parts_are_named(
    removed: str, expected: str, data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    target = make_competition("auc") / removed
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    with pytest.raises(UserError, match=expected):
        load_competition(data_dir, "auc")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"metric": None}, "metric"),
        ({"metric": "auc-pr"}, "unknown metric 'auc-pr'"),
        ({"id": "other"}, "differs from the folder name"),
        ({"metric": "map_at_k", "metric_k": None}, "needs metric_k"),
    ],
)
def test_bad_specs_are_explained(
    change: dict[str, object],
    expected: str,
    data_dir: Path,
    make_competition: Callable[[str], Path],
) -> None:
    path = make_competition("auc") / "competition.json"
    spec = json.loads(path.read_text())
    for key, value in change.items():
        if value is None:
            spec.pop(key)
        else:
            spec[key] = value
    path.write_text(json.dumps(spec))
    with pytest.raises(UserError, match=expected):
        load_competition(data_dir, "auc")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("teamId,points\n1,0.9\n", "no 'score' column"),
        ("teamId,score\n1,0.9\n2,abc\n", "first at line 3"),
        ("teamId,score\n1,0.5\n2,0.9\n", "not sorted best first"),
    ],
)
def test_bad_leaderboards_are_explained(
    content: str, expected: str, data_dir: Path, make_competition: Callable[[str], Path]
) -> None:
    (make_competition("auc") / "leaderboard.csv").write_text(content)
    with pytest.raises(UserError, match=expected):
        load_competition(data_dir, "auc")
