"""What a person sees of a run: the progress line and the live panel's table."""

import io

from rich.console import Console

from mlmaster.orchestrator.progress import RunStatus


def status(**changes: object) -> RunStatus:
    base: dict[str, object] = dict(
        competition="digits",
        elapsed=3725,
        remaining=59,
        nodes_done=12,
        nodes_valid=9,
        nodes_buggy=3,
        in_flight=2,
        best_metric=0.97531,
        lower_is_better=False,
        busy_slots=1,
        total_slots=2,
        tokens=1234,
        cost=0.5,
    )
    base.update(changes)
    return RunStatus(**base)  # type: ignore[arg-type]


def test_line_says_time_nodes_best_slots_and_spend() -> None:
    line = status().line()
    assert line.startswith("1:02:05 elapsed, 0:00:59 left")
    assert "nodes 12 done (9 valid, 3 buggy), 2 in flight" in line
    assert "best 0.97531 ↑" in line
    assert "slots 1/2 busy" in line
    assert "1234 tokens, $0.50" in line


def test_line_before_any_valid_node_and_for_lower_is_better() -> None:
    line = status(best_metric=None, lower_is_better=True).line()
    assert "best none yet ↓" in line


def test_panel_renders_the_same_facts() -> None:
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(status().table())
    text = out.getvalue()
    assert "mlmaster · digits" in text
    assert "0.97531 (higher is better)" in text
    assert "1/2 busy" in text
    assert "12 done · 9 valid · 3 buggy · 2 in flight" in text
