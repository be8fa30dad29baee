"""Results rendering: cells, tables, goals and the files a bench run leaves."""

from __future__ import annotations

import json
from pathlib import Path

from mlmaster.bench.machine import describe_machine
from mlmaster.bench.report import (
    BenchReport,
    Goal,
    ScenarioResult,
    Table,
    format_cell,
    render_markdown,
    render_table,
    write_report,
)


def test_cells_are_short_and_readable() -> None:
    assert format_cell(None) == "–"
    assert format_cell(True) == "yes"
    assert format_cell(1234.567) == "1235"
    assert format_cell(12.3456) == "12.35"
    assert format_cell(0.012345) == "0.0123"
    assert format_cell(0.0) == "0"
    assert format_cell(7) == "7"
    assert format_cell("a|b") == "a\\|b"  # a pipe would split the Markdown cell


def test_a_table_renders_as_markdown_with_its_notes() -> None:
    table = Table(title="T", columns=["a", "b"], rows=[["x", 1.5], ["y", None]], notes=["n1"])
    lines = render_table(table).splitlines()
    assert lines[0] == "**T**"
    assert "| a | b |" in lines
    assert "| x | 1.50 |" in lines
    assert "| y | – |" in lines
    assert "_n1_" in lines


def _report() -> BenchReport:
    scenario = ScenarioResult(
        name="micro",
        seconds=3.0,
        tables=[Table(title="Tree", columns=["nodes"], rows=[[1000]])],
        goals=[
            Goal(name="fast", target="< 1 ms", measured="0.2 ms", met=True),
            Goal(name="slow", target="< 2 s", measured="3 s", met=False),
            Goal(name="absent", target="x", measured="–", met=None),
        ],
        data={"raw": [1, 2]},
    )
    return BenchReport(
        command="mlmaster bench --quick", quick=True, machine=describe_machine(), seconds=3.5,
        scenarios=[scenario],
    )  # fmt: skip


def test_the_page_names_machine_command_goals_and_tables() -> None:
    report = _report()
    page = render_markdown(report)
    assert "`mlmaster bench --quick`" in page
    assert report.machine.cpu_model in page
    assert f"Python {report.machine.python}" in page
    assert "| fast | < 1 ms | 0.2 ms | met |" in page
    assert "| slow | < 2 s | 3 s | **not met** |" in page
    assert "| absent | x | – | not measured |" in page
    assert "### micro (3 s)" in page
    assert "| 1000 |" in page
    assert "Load average" not in page  # not measured: not claimed


def test_the_load_on_the_machine_is_shown_when_measured() -> None:
    report = _report().model_copy(update={"load_before": 0.2, "load_after": 6.04})
    assert "Load average (1 min) before / after: 0.2 / 6.0" in render_markdown(report)


def test_results_are_written_as_json_and_markdown_with_latest_copies(tmp_path: Path) -> None:
    report = _report()
    json_path, md_path = write_report(report, tmp_path / "out")
    assert json_path.parent == tmp_path / "out"
    saved = json.loads(json_path.read_text())
    assert saved["scenarios"][0]["data"] == {"raw": [1, 2]}
    assert BenchReport.model_validate(saved) == report
    assert md_path.read_text() == render_markdown(report)
    assert (tmp_path / "out" / "latest.md").read_text() == md_path.read_text()
    assert (tmp_path / "out" / "latest.json").read_text() == json_path.read_text()


def test_the_machine_is_described() -> None:
    machine = describe_machine()
    assert machine.usable_cores >= 1
    assert machine.logical_cores >= machine.usable_cores
    assert machine.memory_gib > 0
    assert machine.python.count(".") == 2
    assert machine.cpu_model
