"""``mlmaster bench``: run the chosen scenarios, write JSON and Markdown, return the report.

Sizes come in two presets: the full bench (``make bench``, about 12 minutes on 2 cores) and
``--quick`` (under 3 minutes: short runs, fewer competitions, smaller trees), which checks
that every scenario works rather than producing figures to quote.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from mlmaster.bench.machine import describe_machine
from mlmaster.bench.micro import MicroConfig, run_micro
from mlmaster.bench.report import BenchReport, ScenarioResult, write_report
from mlmaster.bench.search_landscape import LandscapeConfig, run_landscape
from mlmaster.bench.search_quality import SearchConfig, run_search
from mlmaster.bench.throughput import ThroughputConfig, run_throughput
from mlmaster.competition.layout import load_competition
from mlmaster.competition.suite.build import build_suite
from mlmaster.errors import UserError

SCENARIOS = ("micro", "throughput", "landscape", "search")
THROUGHPUT_COMPETITION = "diabetes"  # small files: the scripts only copy the sample submission


@dataclass(frozen=True)
class BenchPlan:
    throughput: ThroughputConfig
    search: SearchConfig
    micro: MicroConfig
    landscape: LandscapeConfig


def plan_for(quick: bool) -> BenchPlan:
    if quick:
        return BenchPlan(
            throughput=ThroughputConfig(duration=25.0, serial_duration=6.0),
            # The two quickest competitions whose scripts fit a 10 s run on one core.
            search=SearchConfig(
                competitions=("breast-cancer", "diabetes"), time_limit=10.0, final_reserve=1.0
            ),
            micro=MicroConfig(
                sizes=(1_000, 10_000),
                policies=("ml-master",),
                pairs=500,
                contexts=100,
                appends=100,
            ),
            landscape=LandscapeConfig(nodes=200, competitions=10),
        )
    return BenchPlan(
        throughput=ThroughputConfig(duration=60.0, serial_duration=20.0),
        search=SearchConfig(count=3, time_limit=45.0, final_reserve=3.0),
        micro=MicroConfig(),
        landscape=LandscapeConfig(),
    )


def check_names(names: list[str] | None) -> list[str]:
    """The scenarios to run, in their fixed order; an unknown name is the user's error."""
    if not names:
        return list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise UserError(
            f"unknown bench scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    return [n for n in SCENARIOS if n in names]


def run_bench(
    names: list[str] | None,
    *,
    quick: bool,
    out_dir: Path,
    command: str,
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[BenchReport, Path, Path]:
    """Run the scenarios one after another (never two at once: they would share the CPUs)."""
    chosen = check_names(names)
    plan = plan_for(quick)
    report = BenchReport(
        command=command, quick=quick, machine=describe_machine(), load_before=os.getloadavg()[0]
    )
    work = out_dir / "work"
    suite_dir = out_dir / "suite"
    started = time.monotonic()
    for name in chosen:
        progress(f"bench: {name} ...")
        began = time.monotonic()
        result = _run_scenario(name, plan, work / name, suite_dir, progress)
        result.seconds = time.monotonic() - began
        report.scenarios.append(result)
        progress(f"bench: {name} done in {result.seconds:.0f} s")
    report.seconds = time.monotonic() - started
    report.load_after = os.getloadavg()[0]
    json_path, md_path = write_report(report, out_dir)
    return report, json_path, md_path


def _run_scenario(
    name: str, plan: BenchPlan, work: Path, suite_dir: Path, progress: Callable[[str], None]
) -> ScenarioResult:
    # A scenario's work folder holds only the last bench's scratch runs: start it afresh.
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if name == "micro":
        return run_micro(plan.micro, work)
    if name == "throughput":
        build_suite(suite_dir, only=[THROUGHPUT_COMPETITION])
        competition = load_competition(suite_dir, THROUGHPUT_COMPETITION)
        return anyio.run(run_throughput, plan.throughput, work, competition)
    if name == "landscape":
        return run_landscape(plan.landscape)
    return run_search(plan.search, suite_dir, work, progress)
