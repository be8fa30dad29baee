"""What a person sees of a run: the progress line and the live panel's table."""

import io

import anyio
import pytest
from rich.console import Console

from mlmaster.orchestrator.progress import Snapshot, bar, show_progress, sparkline


def snapshot(**changes: object) -> Snapshot:
    base: dict[str, object] = dict(
        competition="digits",
        elapsed=3600,
        remaining=3600 * 11,
        time_limit=12 * 3600,
        nodes_done=12,
        nodes_valid=9,
        nodes_buggy=3,
        in_flight=2,
        best_metric=0.97531,
        best_history=(0.9, 0.95, 0.97531),
        lower_is_better=False,
        busy_slots=1,
        total_slots=2,
        workers=5,
        tokens=1234,
        cost=0.5,
    )
    base.update(changes)
    return Snapshot(**base)  # type: ignore[arg-type]


def test_line_says_time_nodes_rate_best_slots_and_spend() -> None:
    line = snapshot(elapsed=3725, remaining=59).line()
    assert line.startswith("1:02:05 elapsed, 0:00:59 left")
    assert "nodes 12 done (9 valid, 3 buggy), 2 in flight, 12/h" in line
    assert "best 0.97531 ↑" in line
    assert "slots 1/2 busy, 5 workers" in line
    assert "1234 tokens, $0.50" in line


def test_line_before_any_valid_node_and_for_lower_is_better() -> None:
    line = snapshot(best_metric=None, lower_is_better=True).line()
    assert "best none yet ↓" in line


def render(status: Snapshot) -> str:
    out = io.StringIO()
    Console(file=out, width=150, color_system=None).print(status.table())
    return out.getvalue()


def test_panel_shows_the_budget_bar_the_rate_and_the_trend() -> None:
    text = render(snapshot())
    assert "mlmaster · digits" in text
    assert "█" * 3 + "░" * 27 + "   8%  1:00:00 elapsed · 11:00:00 left" in text
    half = render(snapshot(elapsed=6 * 3600, remaining=6 * 3600))
    assert "█" * 15 + "░" * 15 + "  50%  6:00:00 elapsed · 6:00:00 left" in half
    assert "12 done · 9 valid · 3 buggy · 2 in flight · 12 per hour" in text
    assert "0.97531 (higher is better)  ▁▆█" in text
    assert "1/2 busy · 5 workers" in text


def test_panel_before_any_valid_node() -> None:
    text = render(snapshot(best_metric=None, best_history=()))
    assert "none yet (higher is better)" in text


@pytest.mark.parametrize(
    ("fraction", "drawn"),
    [(0.0, "░░░░"), (0.5, "██░░"), (1.0, "████"), (7.0, "████"), (-1, "░░░░")],
)
def test_bar(fraction: float, drawn: str) -> None:
    assert bar(fraction, width=4) == drawn


def test_sparkline_rises_as_the_score_improves_whichever_way_it_points() -> None:
    assert sparkline([0.5, 0.75, 1.0], lower_is_better=False) == "▁▅█"
    assert sparkline([3.0, 2.0, 1.0], lower_is_better=True) == "▁▅█"


def test_sparkline_keeps_the_latest_values_and_draws_flat_when_nothing_changed() -> None:
    assert sparkline([], lower_is_better=False) == ""
    assert sparkline([0.3], lower_is_better=False) == "█"
    assert sparkline([0.3, 0.3], lower_is_better=True) == "██"
    assert len(sparkline([float(i) for i in range(100)], lower_is_better=False, width=10)) == 10


def test_nodes_per_hour_at_the_start() -> None:
    assert snapshot(elapsed=0, nodes_done=0).nodes_per_hour == 0.0


async def test_the_panel_draws_on_the_console_it_is_given() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=150)
    with anyio.move_on_after(1.2):
        await show_progress(snapshot, interactive=True, console=console)
    assert "mlmaster · digits" in out.getvalue()
