"""The sweep's loop: the runs still to do go to the backend; progress is read from the sweep
directory while they run; the report is written at the end (and by ``sweep report``)."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import anyio
import jinja2

from mlmaster.logs import get_logger
from mlmaster.settings import Settings
from mlmaster.sweep.backends import Backend, make_backend
from mlmaster.sweep.carve import Share
from mlmaster.sweep.plan import RunKey, SweepPlan
from mlmaster.sweep.report import HEADER, SweepReport, build_report, table_cells, to_markdown
from mlmaster.sweep.status import RunState, read_record, state_of
from mlmaster.sweep.task import SweepTask

log = get_logger(__name__)
PROGRESS_EVERY = 2.0  # seconds between looks at the sweep directory


@dataclass
class SweepOutcome:
    sweep_dir: Path
    report: SweepReport
    failed: dict[RunKey, str]

    @property
    def exit_code(self) -> int:
        return 0 if not self.report.unfinished else 1

    def summary(self) -> str:
        done = f"{self.report.finished} of {self.report.planned} runs finished"
        medals = next((row for row in self.report.splits if row.name == "all"), None)
        rate = medals.rates["any_medal"].mean if medals else None
        medal = f"; any medal {rate:.1f}%" if rate is not None else ""
        left = (
            f"; resume with: mlmaster sweep --resume {self.sweep_dir}"
            if self.report.unfinished
            else ""
        )
        return f"{done}{medal}; report at {self.sweep_dir / 'report.html'}{left}"


async def run_sweep(
    plan: SweepPlan, sweep_dir: Path, settings: Settings, backend: Backend | None = None
) -> SweepOutcome:
    """Run the plan's unfinished runs on ``backend`` (made from the plan when not given)."""
    backend = backend or make_backend(plan, settings)
    todo = [key for key in plan.runs() if state_of(sweep_dir, key) != RunState.FINISHED]
    kept = len(plan.runs()) - len(todo)
    log.info("sweep_started", sweep=str(sweep_dir), runs=len(plan.runs()), kept=kept)

    def make_task(key: RunKey, share: Share | None) -> SweepTask:
        return SweepTask(
            key=key,
            sweep_dir=sweep_dir,
            profile=plan.profile,
            overrides=plan.overrides,
            cpus=list(share.cpus) if share else None,
            gpus=list(share.gpus) if share else None,
            pin=share is not None,
        )

    async with anyio.create_task_group() as group:
        group.start_soon(_show_progress, plan, sweep_dir, set(todo))
        failed = await backend.run(todo, make_task)
        group.cancel_scope.cancel()
    for key, why in failed.items():
        log.warning("sweep_run_unfinished", run=key.name, why=why)
    report = write_report(sweep_dir, plan)
    _progress_line(plan, sweep_dir, set())
    return SweepOutcome(sweep_dir=sweep_dir, report=report, failed=failed)


async def _show_progress(plan: SweepPlan, sweep_dir: Path, submitted: set[RunKey]) -> None:
    last = ""
    while True:
        line = await anyio.to_thread.run_sync(_progress_line, plan, sweep_dir, submitted, last)
        last = line or last
        await anyio.sleep(PROGRESS_EVERY)


def _progress_line(plan: SweepPlan, sweep_dir: Path, submitted: set[RunKey], last: str = "") -> str:
    """One line (on stderr and in the log) whenever the sweep's counts change."""
    counts: Counter[str] = Counter()
    medals: Counter[str] = Counter()
    for key in plan.runs():
        state = state_of(sweep_dir, key)
        if state == RunState.FINISHED:
            counts["done"] += 1
            record = read_record(sweep_dir, key)
            grade = record.grade if record else None
            if grade is not None:
                medals["valid"] += grade.valid_submission
                medals["gold"] += grade.gold_medal
                medals["silver"] += grade.silver_medal
                medals["bronze"] += grade.bronze_medal
        elif key in submitted:
            counts["running" if state == RunState.STARTED else "queued"] += 1
    line = (
        f"sweep: {counts['done']}/{len(plan.runs())} done, {counts['running']} running, "
        f"{counts['queued']} queued; valid {medals['valid']}, medals "
        f"{medals['gold'] + medals['silver'] + medals['bronze']} (gold {medals['gold']}, "
        f"silver {medals['silver']}, bronze {medals['bronze']})"
    )
    if line == last:
        return ""
    print(f"mlmaster: {line}", file=sys.stderr, flush=True)
    log.info("sweep_progress", **counts, **medals)
    return line


def write_report(sweep_dir: Path, plan: SweepPlan | None = None) -> SweepReport:
    """Grade-based report of the sweep as it stands: report.json, report.md, report.html."""
    plan = plan or SweepPlan.load(sweep_dir)
    records = {key: read_record(sweep_dir, key) for key in plan.runs()}
    report = build_report(plan, records)
    (sweep_dir / "report.json").write_text(report.model_dump_json(indent=2) + "\n")
    (sweep_dir / "report.md").write_text(to_markdown(report))
    (sweep_dir / "report.html").write_text(_html(report))
    return report


def _html(report: SweepReport) -> str:
    source = resources.files("mlmaster.sweep").joinpath("templates/report.html.j2").read_text()
    template = jinja2.Environment(autoescape=True).from_string(source)
    sections = [
        ("Splits", [table_cells(row) for row in report.splits]),
        ("Competitions", [table_cells(row) for row in report.competitions]),
    ]
    return template.render(report=report, sections=sections, header=HEADER)
