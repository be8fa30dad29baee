"""Search quality: the three policies on the bundled suite, on the same budget, over seeds.

Each run is ``mlmaster run`` as a user starts it (a separate process, the offline coder and
reviewer, real scripts on one execution slot), graded afterwards like MLE-bench grades: valid
submission, medals, above median, and our normalised score (0 at the leaderboard's median,
1 at gold). Runs go two at a time, each on its own CPU, so the budget is the same for all.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from pydantic import BaseModel

from mlmaster.bench.report import Goal, ScenarioResult, Table
from mlmaster.bench.search_landscape import interval
from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition
from mlmaster.competition.suite.build import build_suite, frozen_leaderboard
from mlmaster.competition.suite.catalog import SUITE_IDS
from mlmaster.journal import NodeCommitted, RunDir, read_events
from mlmaster.selection.compare import compare_run, paired_interval

POLICIES = ("ml-master", "greedy", "random")
# What a run keeps of its grade report (MLE-bench's fields plus our normalised score).
GRADE_FIELDS = {
    "valid_submission",
    "any_medal",
    "gold_medal",
    "silver_medal",
    "bronze_medal",
    "above_median",
    "score",
    "normalized_score",
}


@dataclass(frozen=True)
class SearchConfig:
    competitions: tuple[str, ...] = ()  # empty: the first ``count`` with a leaderboard first
    count: int = 3
    policies: tuple[str, ...] = POLICIES
    seeds: tuple[int, ...] = (0, 1)
    time_limit: float = 45.0  # seconds per run
    final_reserve: float = 3.0
    parallel: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)


class RunRecord(BaseModel):
    competition: str
    policy: str
    seed: int
    exit_code: int
    seconds: float
    nodes: int = 0
    valid_submission: bool = False
    any_medal: bool = False
    gold_medal: bool = False
    silver_medal: bool = False
    bronze_medal: bool = False
    above_median: bool = False
    score: float | None = None
    normalized_score: float | None = None
    error: str | None = None
    # Where each selection's pick lands between the run's worst (0) and best (1) valid node on
    # the test set (mlmaster.selection.compare), e.g. {"script": 0.9, "holdout": 1.0, ...}.
    selection: dict[str, float] | None = None


def pick_competitions(config: SearchConfig) -> list[str]:
    """The named competitions, else those with a leaderboard first, in catalog order."""
    if config.competitions:
        return list(config.competitions)
    ranked = sorted(SUITE_IDS, key=lambda cid: frozen_leaderboard(cid) is None)
    return ranked[: config.count]


def run_command(
    competition: str, policy: str, seed: int, cpu: int, suite_dir: Path, workdir: Path, limit: float
) -> list[str]:
    return [
        sys.executable, "-m", "mlmaster", "run", competition,
        "--profile", "ci",
        "--data-dir", str(suite_dir),
        "--runs-dir", str(workdir / "runs"),
        "--output", str(output_path(workdir, competition, policy, seed)),
        "--time-limit", f"{limit:g}s",
        "--policy", policy,
        "--seed", str(seed),
        "--slots", "1",
        "--cpus", str(cpu),
        "--workers", "2",
    ]  # fmt: skip


def run_id(policy: str, seed: int) -> str:
    return f"{policy}-seed{seed}"


def output_path(workdir: Path, competition: str, policy: str, seed: int) -> Path:
    return workdir / "submissions" / competition / f"{run_id(policy, seed)}.csv"


def run_one(
    competition: str, policy: str, seed: int, cpu: int, suite_dir: Path, workdir: Path,
    config: SearchConfig,
) -> RunRecord:  # fmt: skip
    """One ``mlmaster run`` process to its end, then its submission graded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    env |= {
        "MLMASTER_BUDGET__FINAL_RESERVE": f"{config.final_reserve:g}s",
        "MLMASTER_RUN__RUN_ID": run_id(policy, seed),
        **config.extra_env,
    }
    command = run_command(competition, policy, seed, cpu, suite_dir, workdir, config.time_limit)
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=config.time_limit + 120
        )
        code, error = done.returncode, None if done.returncode in (0, 1) else done.stderr[-500:]
    except subprocess.TimeoutExpired:
        code, error = -1, "the run outlived its time limit by two minutes"
    record = RunRecord(
        competition=competition,
        policy=policy,
        seed=seed,
        exit_code=code,
        seconds=time.monotonic() - started,
        error=error,
    )
    journal = RunDir(workdir / "runs" / competition / run_id(policy, seed)).journal
    if journal.is_file():
        record.nodes = sum(isinstance(e, NodeCommitted) for e in read_events(journal))
    run_dir = workdir / "runs" / competition / run_id(policy, seed)
    if journal.is_file():
        record.selection = selection_positions(run_dir, suite_dir)
    submission = output_path(workdir, competition, policy, seed)
    if submission.is_file():
        grade = grade_submission(load_competition(suite_dir, competition), submission)
        record = record.model_copy(update=grade.model_dump(include=GRADE_FIELDS))
    return record


def selection_positions(run_dir: Path, suite_dir: Path) -> dict[str, float] | None:
    """Each selection's pick placed between the run's worst and best valid node (test set)."""
    comparison = compare_run(run_dir, suite_dir)
    if comparison is None:
        return None
    picks = {"script": comparison.by_script, "holdout": comparison.by_holdout}
    if comparison.by_blend is not None:
        picks["blend"] = comparison.by_blend
    return {way: pick.position for way, pick in picks.items()}


def run_all(
    config: SearchConfig,
    suite_dir: Path,
    workdir: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> list[RunRecord]:
    competitions = pick_competitions(config)
    build_suite(suite_dir, only=competitions)
    jobs = [(c, p, s) for c in competitions for s in config.seeds for p in config.policies]
    cpus: SimpleQueue[int] = SimpleQueue()
    usable = sorted(os.sched_getaffinity(0))
    for index in range(config.parallel):
        cpus.put(usable[index % len(usable)])

    def job(competition: str, policy: str, seed: int) -> RunRecord:
        cpu = cpus.get()
        try:
            record = run_one(competition, policy, seed, cpu, suite_dir, workdir, config)
        finally:
            cpus.put(cpu)
        progress(
            f"search: {competition} {policy} seed {seed}: {record.nodes} nodes, "
            f"normalised score {record.normalized_score}"
        )
        return record

    with ThreadPoolExecutor(max_workers=config.parallel) as pool:
        futures = [pool.submit(job, *spec) for spec in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # Ctrl-C: start no further runs (those running got the signal with us).
            for future in futures:
                future.cancel()
            raise


def _mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _pm(values: list[float]) -> str | None:
    mean, sd = _mean_sd(values)
    return None if mean is None else f"{mean:.3f} ± {sd:.3f}"


def _interval_of(records: list[RunRecord]) -> str | None:
    """Mean normalised score over the runs that have one, with its 95 % normal interval."""
    scores = [r.normalized_score for r in records if r.normalized_score is not None]
    return str(interval(scores)) if scores else None


def _rate(records: list[RunRecord], flag: str) -> float:
    return sum(bool(getattr(r, flag)) for r in records) / len(records) if records else 0.0


def seed_means(records: list[RunRecord], policy: str, seeds: tuple[int, ...]) -> list[float]:
    """Per seed, the policy's mean normalised score over the competitions that have one."""
    means = []
    for seed in seeds:
        scores = [
            r.normalized_score
            for r in records
            if r.policy == policy and r.seed == seed and r.normalized_score is not None
        ]
        if scores:
            means.append(statistics.fmean(scores))
    return means


def summarise(config: SearchConfig, records: list[RunRecord]) -> ScenarioResult:
    competitions = sorted({r.competition for r in records})
    policies = [p for p in config.policies if any(r.policy == p for r in records)]
    overall = Table(
        title=(
            f"Search quality: {len(competitions)} bundled competitions, {config.time_limit:g} s "
            f"per run, 1 slot, 2 workers, offline coder, seeds {list(config.seeds)}"
        ),
        columns=[
            "policy",
            "runs",
            "valid",
            "any medal",
            "gold",
            "silver",
            "bronze",
            "above median",
            "normalised score (mean ± sd over seeds)",
            "normalised score (mean, 95 % interval over runs)",
            "nodes per run",
        ],
        notes=[
            "Rates are over all runs; gold/silver/bronze are counts. A run without a valid "
            "submission has no normalised score and is left out of the mean (see 'valid').",
        ],
    )
    data: dict[str, Any] = {"config": config.__dict__, "runs": [r.model_dump() for r in records]}
    for policy in policies:
        mine = [r for r in records if r.policy == policy]
        overall.rows.append(
            [
                policy,
                len(mine),
                _rate(mine, "valid_submission"),
                _rate(mine, "any_medal"),
                sum(r.gold_medal for r in mine),
                sum(r.silver_medal for r in mine),
                sum(r.bronze_medal for r in mine),
                _rate(mine, "above_median"),
                _pm(seed_means(records, policy, config.seeds)),
                _interval_of(mine),
                statistics.fmean(r.nodes for r in mine) if mine else None,
            ]
        )
    per_competition = Table(
        title="Normalised score per competition (mean ± sd over seeds; raw score when the "
        "competition has no leaderboard)",
        columns=["competition", *policies],
    )
    for competition in competitions:
        row: list[Any] = [competition]
        for policy in policies:
            mine = [r for r in records if r.competition == competition and r.policy == policy]
            normalised = [r.normalized_score for r in mine if r.normalized_score is not None]
            raw = [r.score for r in mine if r.score is not None]
            row.append(_pm(normalised) if normalised else _pm(raw) and f"raw {_pm(raw)}")
        per_competition.rows.append(row)

    leader, random_ = (
        _mean_sd(seed_means(records, p, config.seeds))[0] for p in ("ml-master", "random")
    )
    measured = (
        "–"
        if leader is None or random_ is None
        else f"ml-master {leader:.3f} vs random {random_:.3f}"
    )
    goal = Goal(
        name="ml-master ahead of random on mean normalised score",
        target="ml-master > random",
        measured=measured,
        met=None if leader is None or random_ is None else leader > random_,
    )
    tables = [overall, per_competition]
    selection = selection_table(records)
    if selection is not None:
        tables.append(selection)
    return ScenarioResult(name="search", tables=tables, goals=[goal], data=data)


def selection_table(records: list[RunRecord]) -> Table | None:
    """Script, holdout and blend picks on the same runs, against the script's (paired)."""
    compared = [r.selection for r in records if r.selection and "script" in r.selection]
    if not compared:
        return None
    table = Table(
        title=(
            "Selection on the same runs: where each way's pick lands between the run's worst "
            "(0) and best (1) valid node on the test set"
        ),
        columns=["selection", "runs", "mean position", "minus script's (95 % interval)"],
        notes=[
            "Every pick is from the same trees (grown by the holdout's ranking); paired over "
            "runs (python -m mlmaster.selection.compare gives the per-run detail).",
        ],
    )
    for way in ("script", "holdout", "blend"):
        both = [c for c in compared if way in c]
        if not both:
            continue
        mean, half = paired_interval([c[way] - c["script"] for c in both])
        table.rows.append(
            [
                way,
                len(both),
                f"{statistics.fmean(c[way] for c in both):.3f}",
                "–"
                if way == "script"
                else f"{mean:+.3f} ({mean - half:+.3f} to {mean + half:+.3f})",
            ]
        )
    return table


def run_search(
    config: SearchConfig, suite_dir: Path, workdir: Path, progress: Callable[[str], None]
) -> ScenarioResult:
    return summarise(config, run_all(config, suite_dir, workdir, progress))
