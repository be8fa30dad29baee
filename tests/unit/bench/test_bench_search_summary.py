"""The search scenario's tallies: rates, medals, seed means and the goal."""

from __future__ import annotations

from typing import Any

from mlmaster.bench.search_quality import (
    RunRecord,
    SearchConfig,
    pick_competitions,
    run_command,
    seed_means,
    summarise,
)
from mlmaster.competition.suite.build import frozen_leaderboard
from mlmaster.competition.suite.catalog import SUITE_IDS


def record(
    competition: str, policy: str, seed: int, score: float | None, **flags: Any
) -> RunRecord:
    return RunRecord(
        competition=competition, policy=policy, seed=seed, exit_code=0, seconds=1.0, nodes=4,
        valid_submission=score is not None, normalized_score=score, score=score, **flags,
    )  # fmt: skip


CONFIG = SearchConfig(policies=("ml-master", "random"), seeds=(0, 1))
RECORDS = [
    record("a", "ml-master", 0, 1.2, gold_medal=True, any_medal=True, above_median=True),
    record("b", "ml-master", 0, 0.4, above_median=True),
    record("a", "ml-master", 1, 0.8, bronze_medal=True, any_medal=True, above_median=True),
    record("b", "ml-master", 1, None),
    record("a", "random", 0, 0.2, above_median=True),
    record("b", "random", 0, -0.2),
    record("a", "random", 1, 0.0),
    record("b", "random", 1, 0.4, above_median=True),
]


def test_seed_means_average_the_competitions_that_have_a_score() -> None:
    assert seed_means(RECORDS, "ml-master", (0, 1)) == [0.8, 0.8]
    assert seed_means(RECORDS, "random", (0, 1)) == [0.0, 0.2]


def test_the_overall_table_has_rates_counts_and_spread() -> None:
    result = summarise(CONFIG, RECORDS)
    overall = result.tables[0]
    leader = dict(zip(overall.columns, overall.rows[0], strict=True))
    assert leader["policy"] == "ml-master" and leader["runs"] == 4
    assert leader["valid"] == 0.75
    assert leader["any medal"] == 0.5
    assert (leader["gold"], leader["silver"], leader["bronze"]) == (1, 0, 1)
    assert leader["above median"] == 0.75
    assert leader["normalised score (mean ± sd over seeds)"] == "0.800 ± 0.000"
    other = dict(zip(overall.columns, overall.rows[1], strict=True))
    assert other["normalised score (mean ± sd over seeds)"] == "0.100 ± 0.141"
    # over the three scored runs 1.2, 0.4, 0.8: sd 0.4, 1.96 * 0.4 / sqrt(3) = 0.453
    assert leader["normalised score (mean, 95 % interval over runs)"] == "0.800 ± 0.453"


def test_per_competition_rows_and_the_goal() -> None:
    result = summarise(CONFIG, RECORDS)
    per_competition = result.tables[1]
    assert per_competition.rows[0] == ["a", "1.000 ± 0.283", "0.100 ± 0.141"]
    assert per_competition.rows[1][1] == "0.400 ± 0.000"
    [goal] = result.goals
    assert goal.met is True and "ml-master 0.800 vs random 0.100" in goal.measured
    assert len(result.data["runs"]) == len(RECORDS)


def test_the_goal_fails_when_random_does_better() -> None:
    swapped = [
        r.model_copy(update={"policy": "random" if r.policy == "ml-master" else "ml-master"})
        for r in RECORDS
    ]
    [goal] = summarise(CONFIG, swapped).goals
    assert goal.met is False


def test_without_leaderboards_raw_scores_are_shown_and_the_goal_is_unmeasured() -> None:
    raw = [r.model_copy(update={"normalized_score": None}) for r in RECORDS]
    result = summarise(CONFIG, raw)
    assert str(result.tables[1].rows[0][1]).startswith("raw ")
    assert result.goals[0].met is None


def test_competitions_with_a_leaderboard_come_first() -> None:
    picked = pick_competitions(SearchConfig(count=len(SUITE_IDS)))
    assert sorted(picked) == sorted(SUITE_IDS)
    flags = [frozen_leaderboard(c) is not None for c in picked]
    assert flags == sorted(flags, reverse=True)
    assert pick_competitions(SearchConfig(competitions=("digits",))) == ["digits"]


def test_each_run_is_the_user_command_on_one_cpu(tmp_path: Any) -> None:
    argv = run_command("digits", "greedy", 3, 1, tmp_path / "suite", tmp_path, 45.0)
    assert argv[1:5] == ["-m", "mlmaster", "run", "digits"]
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags["--policy"] == "greedy" and flags["--seed"] == "3"
    assert flags["--cpus"] == "1" and flags["--slots"] == "1"
    assert flags["--time-limit"] == "45s" and flags["--profile"] == "ci"


def test_the_selections_on_the_same_runs_are_paired_against_the_scripts_pick() -> None:
    assert len(summarise(CONFIG, RECORDS).tables) == 2  # no run compared: no table
    positions = [
        {"script": 1.0, "holdout": 0.5, "blend": 1.0},
        {"script": 0.5, "holdout": 1.0, "blend": 1.0},
        {"script": 0.0, "holdout": 0.0},  # too few nodes for the blend to differ: none given
    ]
    compared = [
        r.model_copy(update={"selection": p}) for r, p in zip(RECORDS, positions, strict=False)
    ]
    table = summarise(CONFIG, compared).tables[2]
    rows = {row[0]: row for row in table.rows}
    assert rows["script"] == ["script", 3, "0.500", "–"]
    # holdout - script: -0.5, +0.5, 0.0: mean 0, sd 0.5, 1.96 * 0.5 / sqrt(3) = 0.566
    assert rows["holdout"] == ["holdout", 3, "0.500", "+0.000 (-0.566 to +0.566)"]
    # blend - script over the two runs that have one: 0.0, +0.5
    assert rows["blend"][:3] == ["blend", 2, "1.000"]
    assert rows["blend"][3].startswith("+0.250 (")
