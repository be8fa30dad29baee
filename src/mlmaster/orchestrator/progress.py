"""Live progress of a run: a rich panel on a terminal, a periodic log line elsewhere.

On a terminal the panel is redrawn in place at the bottom of the screen and log lines scroll
above it: both go through one rich console (the one :mod:`mlmaster.logs` writes to), so they
never fight for the cursor. What a person watching a long run wants at a glance: how much of
the time budget is gone, how fast nodes come, and whether the best score still improves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio
from rich.console import Console
from rich.live import Live
from rich.table import Table

from mlmaster.logs import get_logger, terminal_console

log = get_logger(__name__)

BAR_WIDTH = 30
SPARK_WIDTH = 30
_SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Snapshot:
    """A run as the orchestrator saw it at one instant, for people to read."""

    competition: str
    elapsed: float
    remaining: float
    time_limit: float
    nodes_done: int
    nodes_valid: int
    nodes_buggy: int
    in_flight: int
    best_metric: float | None
    best_history: tuple[float, ...]  # every new best in order (thinned on long runs)
    lower_is_better: bool
    busy_slots: int
    total_slots: int
    workers: int
    tokens: int
    cost: float

    @property
    def nodes_per_hour(self) -> float:
        return 3600 * self.nodes_done / self.elapsed if self.elapsed > 0 else 0.0

    def line(self) -> str:
        best = "none yet" if self.best_metric is None else f"{self.best_metric:.6g}"
        arrow = "↓" if self.lower_is_better else "↑"
        return (
            f"{_clock(self.elapsed)} elapsed, {_clock(self.remaining)} left | "
            f"nodes {self.nodes_done} done ({self.nodes_valid} valid, {self.nodes_buggy} buggy), "
            f"{self.in_flight} in flight, {self.nodes_per_hour:.0f}/h | best {best} {arrow} | "
            f"slots {self.busy_slots}/{self.total_slots} busy, {self.workers} workers | "
            f"{self.tokens} tokens, ${self.cost:.2f}"
        )

    def table(self) -> Table:
        table = Table(title=f"mlmaster · {self.competition}", show_header=False, expand=False)
        table.add_column(style="bold cyan")
        table.add_column()
        used = 1.0 - self.remaining / self.time_limit if self.time_limit > 0 else 1.0
        table.add_row(
            "time",
            f"{bar(used)} {used:4.0%}  {_clock(self.elapsed)} elapsed · "
            f"{_clock(self.remaining)} left",
        )
        table.add_row(
            "nodes",
            f"{self.nodes_done} done · {self.nodes_valid} valid · {self.nodes_buggy} buggy · "
            f"{self.in_flight} in flight · {self.nodes_per_hour:.0f} per hour",
        )
        direction = "lower is better" if self.lower_is_better else "higher is better"
        if self.best_metric is None:
            table.add_row("best", f"none yet ({direction})")
        else:
            trend = sparkline(self.best_history, lower_is_better=self.lower_is_better)
            table.add_row("best", f"{self.best_metric:.6g} ({direction})  {trend}")
        table.add_row(
            "slots", f"{self.busy_slots}/{self.total_slots} busy · {self.workers} workers"
        )
        table.add_row("llm", f"{self.tokens} tokens · ${self.cost:.2f}")
        return table


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """``fraction`` (0..1) as a bar of ``width`` cells: ``█████░░░░░``."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def sparkline(values: Sequence[float], *, lower_is_better: bool, width: int = SPARK_WIDTH) -> str:
    """The best score's trend, one block per value (the latest ``width``); taller is better,
    whichever way the metric points. A single value, or no change, draws a flat line."""
    shown = list(values)[-width:]
    if not shown:
        return ""
    lo, hi = min(shown), max(shown)
    if hi == lo:
        return _SPARKS[-1] * len(shown)
    top = len(_SPARKS) - 1
    blocks = []
    for value in shown:
        share = (value - lo) / (hi - lo)
        if lower_is_better:
            share = 1.0 - share
        blocks.append(_SPARKS[round(share * top)])
    return "".join(blocks)


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


async def show_progress(
    snapshot: Callable[[], Snapshot],
    *,
    interactive: bool | None = None,
    every: float = 30.0,
    console: Console | None = None,
) -> None:
    """Render snapshots until cancelled: live on a terminal, a log line every ``every`` s.

    ``console`` is where the panel draws; by default the one the log lines go through.
    """
    console = console or terminal_console()
    if interactive is None:
        interactive = console is not None or sys.stderr.isatty()
    if not interactive:
        while True:
            await anyio.sleep(every)
            log.info("progress", status=snapshot().line())
    # Logs written through this same console appear above the panel, which stays in place.
    console = console or Console(stderr=True)
    with Live(snapshot().table(), console=console, auto_refresh=False, transient=True) as live:
        while True:
            await anyio.sleep(0.5)
            live.update(snapshot().table(), refresh=True)
