"""Benchmark results: typed tables, written as JSON and rendered as one Markdown page.

Every scenario returns a :class:`ScenarioResult`: a few tables meant for people, and the raw
figures (``data``) kept in the JSON for anyone comparing runs later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mlmaster.bench.machine import MachineInfo

Cell = str | int | float | None


class Table(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[Cell]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class Goal(BaseModel):
    """A target from the issue, the figure measured against it, and whether it was met."""

    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


class ScenarioResult(BaseModel):
    name: str
    seconds: float = 0.0
    tables: list[Table] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


class BenchReport(BaseModel):
    command: str
    quick: bool
    started: datetime = Field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    machine: MachineInfo
    # 1-minute load average before and after: other work on the machine slows every figure.
    load_before: float | None = None
    load_after: float | None = None
    scenarios: list[ScenarioResult] = Field(default_factory=list)


def format_cell(value: Cell) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value).replace("|", "\\|")


def render_table(table: Table) -> str:
    lines = [
        f"**{table.title}**",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "|".join("---" for _ in table.columns) + "|",
    ]
    lines += ["| " + " | ".join(format_cell(c) for c in row) + " |" for row in table.rows]
    lines += [f"\n_{note}_" for note in table.notes]
    return "\n".join(lines)


def render_goals(scenarios: list[ScenarioResult]) -> str:
    goals = [goal for scenario in scenarios for goal in scenario.goals]
    if not goals:
        return ""
    mark = {True: "met", False: "**not met**", None: "not measured"}
    table = Table(
        title="Goals",
        columns=["goal", "target", "measured", ""],
        rows=[[g.name, g.target, g.measured, mark[g.met]] for g in goals],
    )
    return render_table(table)


def render_markdown(report: BenchReport) -> str:
    """The whole results page: header with the machine and command, goals, then each table."""
    parts = [
        "## Benchmark results",
        "",
        f"`{report.command}` on {report.started:%Y-%m-%d %H:%M} UTC, "
        f"{report.seconds:.0f} s in all{' (quick)' if report.quick else ''}.",
        "",
        f"Machine: {report.machine.line()}.",
    ]
    if report.load_before is not None and report.load_after is not None:
        parts += [
            "",
            f"Load average (1 min) before / after: {report.load_before:.1f} / "
            f"{report.load_after:.1f} (other processes were sharing the "
            f"{report.machine.usable_cores} cores when these exceed 0.5).",
        ]
    goals = render_goals(report.scenarios)
    if goals:
        parts += ["", goals]
    for scenario in report.scenarios:
        parts += ["", f"### {scenario.name} ({scenario.seconds:.0f} s)"]
        for table in scenario.tables:
            parts += ["", render_table(table)]
    return "\n".join(parts) + "\n"


def write_report(report: BenchReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``bench-<time>.json`` and ``.md`` plus ``latest.json`` / ``latest.md`` copies."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = report.started.strftime("%Y%m%d-%H%M%S")
    text, markdown = report.model_dump_json(indent=2), render_markdown(report)
    json_path, md_path = out_dir / f"bench-{stamp}.json", out_dir / f"bench-{stamp}.md"
    for path, content in (
        (json_path, text),
        (md_path, markdown),
        (out_dir / "latest.json", text),
        (out_dir / "latest.md", markdown),
    ):
        path.write_text(content)
    return json_path, md_path
