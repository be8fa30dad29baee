"""The sweep's aggregate: rates per competition and split, mean and standard error over seeds."""

from __future__ import annotations

import math

import pytest

from mlmaster.competition.grading import GradeReport
from mlmaster.sweep.plan import Resources, RunKey, SweepPlan
from mlmaster.sweep.report import build_report, to_markdown
from mlmaster.sweep.status import RunRecord


def _grade(competition: str, *, valid: bool, medal: str | None, score: float) -> GradeReport:
    return GradeReport(
        competition_id=competition,
        score=score if valid else None,
        gold_threshold=1.0,
        silver_threshold=0.9,
        bronze_threshold=0.8,
        median_threshold=0.5,
        any_medal=medal is not None,
        gold_medal=medal == "gold",
        silver_medal=medal == "silver",
        bronze_medal=medal == "bronze",
        above_median=valid and score > 0.5,
        submission_exists=valid,
        valid_submission=valid,
        is_lower_better=False,
        submission_path="x.csv",
        normalized_score=(score - 0.5) / 0.5 if valid else None,
    )


def _record(competition: str, seed: int, grade: GradeReport | None, code: int = 0) -> RunRecord:
    return RunRecord(
        competition=competition, seed=seed, exit_code=code, stop_reason="time", grade=grade
    )


PLAN = SweepPlan(
    competitions=["a", "b"],
    splits={"lite": ["a"]},
    seeds=[0, 1],
    backend="local",
    resources=Resources(cpus=1),
)


def test_rates_per_competition_and_split_with_standard_errors() -> None:
    records = {
        RunKey(competition="a", seed=0): _record(
            "a", 0, _grade("a", valid=True, medal="gold", score=1.0)
        ),
        RunKey(competition="a", seed=1): _record(
            "a", 1, _grade("a", valid=True, medal=None, score=0.7)
        ),
        RunKey(competition="b", seed=0): _record(
            "b", 0, _grade("b", valid=False, medal=None, score=0.0)
        ),
        RunKey(competition="b", seed=1): None,  # never finished
    }
    report = build_report(PLAN, records)
    a, b = report.competitions
    assert a.rates["gold"].mean == 50.0
    assert a.rates["gold"].stderr == pytest.approx(50.0)  # stdev(100, 0) / sqrt(2)
    assert a.rates["valid"].mean == 100.0 and a.rates["valid"].stderr == 0.0
    assert a.score.mean == pytest.approx(0.85)
    assert b.rates["valid"].mean == 0.0 and b.graded == 1
    everything, lite = report.splits
    # per seed: seed 0 has 1 medal of 2 competitions (50%), seed 1 none (0%)
    assert everything.rates["any_medal"].mean == 25.0
    assert everything.rates["any_medal"].stderr == pytest.approx(25.0)
    assert lite.rates["any_medal"].mean == 50.0
    assert everything.normalized.mean == pytest.approx((1.0 + 0.4) / 2)
    assert report.finished == 3 and report.unfinished == ["b/seed-1"]


def test_refused_runs_count_as_unfinished_and_one_seed_has_no_error_bar() -> None:
    plan = PLAN.model_copy(update={"seeds": [0]})
    records = {
        RunKey(competition="a", seed=0): _record("a", 0, None, code=2),
        RunKey(competition="b", seed=0): _record(
            "b", 0, _grade("b", valid=True, medal="bronze", score=0.8)
        ),
    }
    report = build_report(plan, records)
    assert report.unfinished == ["a/seed-0"]
    assert report.splits[0].rates["any_medal"].mean == 50.0
    assert report.splits[0].rates["any_medal"].stderr is None
    text = to_markdown(report)
    assert "| b | 1/1 | 100.0 | 100.0 | 0.0 | 0.0 | 100.0 | 100.0 |" in text
    assert "- a/seed-0" in text
    assert not math.isnan(report.splits[0].normalized.mean or 0.0)
