"""The sweep's aggregate, as MLE-bench reports results: per competition and per split, the
share of runs with a valid submission, above the median, with each medal and any medal, as a
mean with its standard error over seeds. Pure: records in, a report model out."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel

from mlmaster.sweep.plan import RunKey, SweepPlan
from mlmaster.sweep.status import RunRecord

RATES = ("valid", "above_median", "gold", "silver", "bronze", "any_medal")


class Estimate(BaseModel):
    """A mean over seeds with its standard error (None with fewer than two seeds)."""

    mean: float | None
    stderr: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        if not values:
            return cls(mean=None, stderr=None, n=0)
        mean = statistics.fmean(values)
        stderr = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None
        return cls(mean=mean, stderr=stderr, n=len(values))


class Row(BaseModel):
    """One competition or split: each rate in percent over its runs, and the scores."""

    name: str
    runs: int  # planned
    graded: int  # finished and graded
    rates: dict[str, Estimate]
    score: Estimate  # raw score of valid submissions
    normalized: Estimate  # 0 at the median, 1 at gold


class SweepReport(BaseModel):
    competitions: list[Row]
    splits: list[Row]
    finished: int
    planned: int
    unfinished: list[str]


def _outcomes(record: RunRecord | None) -> dict[str, float]:
    """The rates' 0/100 values for one run; a run with no grade counts as nothing achieved."""
    grade = record.grade if record is not None else None
    if grade is None:
        return dict.fromkeys(RATES, 0.0)
    achieved = {
        "valid": grade.valid_submission,
        "above_median": grade.above_median,
        "gold": grade.gold_medal,
        "silver": grade.silver_medal,
        "bronze": grade.bronze_medal,
        "any_medal": grade.any_medal,
    }
    return {name: 100.0 if value else 0.0 for name, value in achieved.items()}


def build_report(plan: SweepPlan, records: Mapping[RunKey, RunRecord | None]) -> SweepReport:
    competitions = [_competition_row(plan, c, records) for c in plan.competitions]
    splits = [_split_row(plan, "all", plan.competitions, records)]
    splits += [_split_row(plan, name, ids, records) for name, ids in plan.splits.items()]
    unfinished = [key.name for key, record in records.items() if not (record and record.ended)]
    return SweepReport(
        competitions=competitions,
        splits=splits,
        finished=len(records) - len(unfinished),
        planned=len(records),
        unfinished=unfinished,
    )


def _competition_row(
    plan: SweepPlan, competition: str, records: Mapping[RunKey, RunRecord | None]
) -> Row:
    runs = [records.get(RunKey(competition=competition, seed=s)) for s in plan.seeds]
    per_run = [_outcomes(r) for r in runs]
    grades = [r.grade for r in runs if r is not None and r.grade is not None]
    return Row(
        name=competition,
        runs=len(runs),
        graded=len(grades),
        rates={name: Estimate.of([o[name] for o in per_run]) for name in RATES},
        score=Estimate.of([g.score for g in grades if g.valid_submission and g.score is not None]),
        normalized=Estimate.of(
            [g.normalized_score for g in grades if g.normalized_score is not None]
        ),
    )


def _split_row(
    plan: SweepPlan, name: str, ids: Iterable[str], records: Mapping[RunKey, RunRecord | None]
) -> Row:
    """MLE-bench's headline: per seed, the share of the split's competitions achieving each
    rate; then the mean and standard error of those shares over seeds."""
    ids = list(ids)
    by_seed = {
        seed: [_outcomes(records.get(RunKey(competition=c, seed=seed))) for c in ids]
        for seed in plan.seeds
    }
    rates = {
        rate: Estimate.of([statistics.fmean(o[rate] for o in runs) for runs in by_seed.values()])
        for rate in RATES
    }
    normalized = []
    for seed in plan.seeds:
        values = [
            r.grade.normalized_score
            for c in ids
            if (r := records.get(RunKey(competition=c, seed=seed))) is not None
            and r.grade is not None
            and r.grade.normalized_score is not None
        ]
        if values:
            normalized.append(statistics.fmean(values))
    graded = sum(
        1
        for c in ids
        for seed in plan.seeds
        if (r := records.get(RunKey(competition=c, seed=seed))) is not None and r.grade
    )
    return Row(
        name=name,
        runs=len(ids) * len(plan.seeds),
        graded=graded,
        rates=rates,
        score=Estimate.of([]),  # raw scores of different competitions do not average
        normalized=Estimate.of(normalized),
    )


def format_estimate(estimate: Estimate, digits: int = 1) -> str:
    if estimate.mean is None:
        return "–"
    if estimate.stderr is None:
        return f"{estimate.mean:.{digits}f}"
    return f"{estimate.mean:.{digits}f} ± {estimate.stderr:.{digits}f}"


def to_markdown(report: SweepReport) -> str:
    lines = [
        "# Sweep report",
        "",
        f"{report.finished} of {report.planned} runs finished. Rates are percentages, as a mean "
        "± standard error over seeds; a run without a graded submission counts as achieving "
        "nothing.",
        "",
    ]
    for title, rows in (("Splits", report.splits), ("Competitions", report.competitions)):
        lines += [f"## {title}", "", _markdown_table(rows), ""]
    if report.unfinished:
        lines += ["## Unfinished", "", *(f"- {name}" for name in report.unfinished), ""]
    return "\n".join(lines)


HEADER = ("name", "graded", *RATES, "normalised score", "score")


def table_cells(row: Row) -> list[str]:
    return [
        row.name,
        f"{row.graded}/{row.runs}",
        *(format_estimate(row.rates[name]) for name in RATES),
        format_estimate(row.normalized, 3),
        format_estimate(row.score, 5),
    ]


def _markdown_table(rows: Sequence[Row]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(table_cells(row)) + " |" for row in rows]
    return "\n".join(out)
