"""Live progress of a run: a rich panel on a terminal, a periodic log line elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from rich.console import Console
from rich.live import Live
from rich.table import Table

from mlmaster.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class RunStatus:
    """A snapshot of a run, taken by the orchestrator for people to read."""

    competition: str
    elapsed: float
    remaining: float
    nodes_done: int
    nodes_valid: int
    nodes_buggy: int
    in_flight: int
    best_metric: float | None
    lower_is_better: bool
    busy_slots: int
    total_slots: int
    tokens: int
    cost: float

    def line(self) -> str:
        best = "none yet" if self.best_metric is None else f"{self.best_metric:.6g}"
        arrow = "↓" if self.lower_is_better else "↑"
        return (
            f"{_clock(self.elapsed)} elapsed, {_clock(self.remaining)} left | "
            f"nodes {self.nodes_done} done ({self.nodes_valid} valid, {self.nodes_buggy} buggy), "
            f"{self.in_flight} in flight | best {best} {arrow} | "
            f"slots {self.busy_slots}/{self.total_slots} busy | "
            f"{self.tokens} tokens, ${self.cost:.2f}"
        )

    def table(self) -> Table:
        table = Table(title=f"mlmaster · {self.competition}", show_header=False, expand=False)
        table.add_column(style="bold cyan")
        table.add_column()
        best = "none yet" if self.best_metric is None else f"{self.best_metric:.6g}"
        direction = "lower is better" if self.lower_is_better else "higher is better"
        table.add_row("time", f"{_clock(self.elapsed)} elapsed · {_clock(self.remaining)} left")
        table.add_row(
            "nodes",
            f"{self.nodes_done} done · {self.nodes_valid} valid · {self.nodes_buggy} buggy · "
            f"{self.in_flight} in flight",
        )
        table.add_row("best", f"{best} ({direction})")
        table.add_row("slots", f"{self.busy_slots}/{self.total_slots} busy")
        table.add_row("llm", f"{self.tokens} tokens · ${self.cost:.2f}")
        return table


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


async def show_progress(
    snapshot: Callable[[], RunStatus], *, interactive: bool | None = None, every: float = 30.0
) -> None:
    """Render snapshots until cancelled: live on a terminal, a log line every ``every`` s."""
    if interactive is None:
        interactive = sys.stderr.isatty()
    if not interactive:
        while True:
            await anyio.sleep(every)
            log.info("progress", status=snapshot().line())
    console = Console(stderr=True)
    with Live(snapshot().table(), console=console, refresh_per_second=2, transient=True) as live:
        while True:
            await anyio.sleep(0.5)
            live.update(snapshot().table())
