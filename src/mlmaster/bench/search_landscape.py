"""Search quality on a simulated landscape: the policies at a 12-hour run's node count.

Each policy grows one tree per simulated competition (the same competitions and seeds for
every policy) with the simulated coder (:mod:`mlmaster.bench.simulated_coder`), through the
real tree and policies. For each run it records the true normalised score (a share of the
competition's best reachable score) of the node each selection method would submit: the
best validation score its script printed (``script``), a less noisy holdout scored alike for
every node (``holdout``) and the blend of both (``blend``, weighted as a tenth of the rows held
back would weigh them), with the best node in the tree and the best approach drafted, so one
sees how far selection and search each fall short.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from mlmaster.bench.report import Goal, ScenarioResult, Table
from mlmaster.bench.simulated_coder import Landscape, simulate_run
from mlmaster.settings.model import SearchSettings

POLICIES = ("ml-master", "greedy", "random")
SELECTIONS = ("script", "holdout")


@dataclass(frozen=True)
class LandscapeConfig:
    nodes: int = 500  # a 12-hour run at a few minutes per node over a few slots
    competitions: int = 60  # one seed each; every policy sees the same ones
    workers: int = 4  # expansions in flight, as parallel workers keep them
    policies: tuple[str, ...] = POLICIES
    landscape: Landscape = field(default_factory=Landscape)


@dataclass(frozen=True)
class Interval:
    mean: float
    half_width: float  # 95 % normal interval: 1.96 standard errors

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.half_width:.3f}"


def interval(values: list[float]) -> Interval:
    if len(values) < 2:
        return Interval(statistics.fmean(values) if values else 0.0, 0.0)
    return Interval(statistics.fmean(values), 1.96 * statistics.stdev(values) / len(values) ** 0.5)


def run_policy(config: LandscapeConfig, policy: str) -> list[dict[str, float]]:
    """One record per competition: the true normalised scores that matter."""
    settings = SearchSettings(policy=policy)
    records = []
    for competition in range(config.competitions):
        run = simulate_run(
            settings,
            config.landscape,
            nodes=config.nodes,
            competition=competition,
            seed=competition,
            workers=config.workers,
        )
        best, drafted = run.best_in_tree(), run.best_drafted()
        records.append(
            {
                "script": run.normalised(run.selected_by_script()),
                "holdout": run.normalised(run.selected_by_holdout()),
                "blend": run.normalised(run.selected_by_blend()),
                "best_in_tree": 0.0 if best is None else best / run.gold,
                "best_drafted": 0.0 if drafted is None else drafted / run.gold,
                "drafts": float(len(run.tree.nodes[run.tree.root_id].children)),
            }
        )
    return records


def summarise(
    config: LandscapeConfig, results: dict[str, list[dict[str, float]]], seconds: float
) -> ScenarioResult:
    intervals = {
        policy: {key: interval([r[key] for r in records]) for key in records[0]}
        for policy, records in results.items()
    }
    nodes = config.nodes * config.competitions * len(results)
    table = Table(
        title=(
            f"Search quality on a simulated landscape: {config.nodes} nodes per run, "
            f"{config.competitions} competitions, {config.workers} steps in flight "
            f"(mean normalised test score, 95 % interval)"
        ),
        columns=[
            "policy",
            "selected by script",
            "selected by holdout",
            "selected by blend",
            "best node in tree",
            "best approach drafted",
            "drafts",
        ],
        rows=[
            [
                policy,
                str(by["script"]),
                str(by["holdout"]),
                str(by["blend"]),
                str(by["best_in_tree"]),
                str(by["best_drafted"]),
                by["drafts"].mean,
            ]
            for policy, by in intervals.items()
        ],
        notes=[
            "Scores are true test scores as a share of the best any approach can reach (1.0). "
            "Gaps: best node in tree - selected = what selection loses; 1 - best node = what "
            "the search did not find.",
            f"{nodes:,} simulated nodes through the real tree in {seconds:.1f} s "
            f"({nodes / max(seconds, 1e-9):,.0f} nodes/s).",
            "Assumptions (mlmaster.bench.simulated_coder): "
            + ", ".join(f"{k}={v:g}" for k, v in config.landscape.model_dump().items()),
        ],
    )
    goals = [_ahead_goal(intervals, selection) for selection in SELECTIONS]
    data: dict[str, Any] = {
        "config": {
            "nodes": config.nodes,
            "competitions": config.competitions,
            "workers": config.workers,
            "policies": list(config.policies),
            "landscape": config.landscape.model_dump(),
        },
        "intervals": {
            policy: {key: [iv.mean, iv.half_width] for key, iv in by.items()}
            for policy, by in intervals.items()
        },
        "runs": results,
    }
    return ScenarioResult(name="landscape", tables=[table], goals=goals, data=data)


def _ahead_goal(intervals: dict[str, dict[str, Interval]], selection: str) -> Goal:
    """ml-master's interval entirely above every other policy's, for one selection method."""
    name = f"ml-master ahead of greedy and random, selected by {selection} (simulated)"
    if "ml-master" not in intervals or len(intervals) < 2:
        return Goal(name=name, target="intervals apart", measured="–", met=None)
    mine = intervals["ml-master"][selection]
    others = {p: by[selection] for p, by in intervals.items() if p != "ml-master"}
    measured = f"ml-master {mine}; " + "; ".join(f"{p} {iv}" for p, iv in others.items())
    met = all(mine.low > iv.high for iv in others.values())
    return Goal(name=name, target="intervals apart", measured=measured, met=met)


def run_landscape(config: LandscapeConfig) -> ScenarioResult:
    started = time.perf_counter()
    results = {policy: run_policy(config, policy) for policy in config.policies}
    return summarise(config, results, time.perf_counter() - started)
