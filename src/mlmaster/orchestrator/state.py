"""A run in memory: its wired parts (fixed once) and its status (what the run has come to).

``RunState`` holds the parts :func:`~mlmaster.orchestrator.run.open_run` wires, one each for
the whole run; none is ever replaced, so the dataclass is frozen. What changes as the run goes
(why it stops, how many steps failed, the commit signal, step timings, the best score's trend)
lives apart in :class:`RunStatus`, reached as ``state.status``.

The rule for the tree holds here as everywhere: it is confined to the event loop and its
methods are synchronous, so a select or a commit runs whole between two awaits and needs no
lock. Executions are not kept in memory (a long run has thousands): a node's is read back from
its folder when a child's prompt needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from mlmaster.competition.layout import Competition
from mlmaster.competition.validation import ValidationOutcome
from mlmaster.environment import Environment
from mlmaster.execution.result import ExecutionResult
from mlmaster.execution.runner import Executor
from mlmaster.journal import Journal, RunDir
from mlmaster.llm.accounting import Accountant
from mlmaster.llm.requests import Coder, Reviewer
from mlmaster.logs import get_logger
from mlmaster.memory import MemoryStore
from mlmaster.orchestrator.budget import Budget
from mlmaster.orchestrator.timing import StepTiming
from mlmaster.search import SearchTree
from mlmaster.search.node import Node
from mlmaster.selection.final import blend_choice
from mlmaster.selection.setup import Selection
from mlmaster.settings import Settings

log = get_logger(__name__)

# Best scores kept for the live panel's trend; older ones are thinned, not dropped wholesale.
BEST_HISTORY = 64


@dataclass
class RunStatus:
    """What the run has come to. Changed by workers, always on the event loop."""

    stop_reason: str | None = None
    failures: int = 0  # steps that raised instead of committing
    failures_in_a_row: int = 0
    fatal: bool = False  # a failure no retry can fix (e.g. the endpoint refuses our key)
    committed: anyio.Event = field(default_factory=anyio.Event)
    step_timings: list[StepTiming] = field(default_factory=list)  # one per committed node
    best_history: list[tuple[float, float]] = field(default_factory=list)  # (elapsed, metric)
    workers: int = 0  # tree workers running now
    most_workers: int = 0  # the most that ran at once
    final_pick: str | None = None  # the node the run ends with, once the blend has chosen it

    def stop(self, reason: str) -> None:
        """Record why the run stops; the first reason given wins."""
        self.stop_reason = self.stop_reason or reason

    def signal_commit(self) -> None:
        """Wake workers waiting for the tree to change (anyio events fire once: renew it)."""
        self.committed.set()
        self.committed = anyio.Event()

    async def wait_for_commit(self, at_most: float) -> None:
        """Until the next commit, or ``at_most`` seconds."""
        with anyio.move_on_after(at_most):
            await self.committed.wait()

    def record_best(self, elapsed: float, metric: float) -> None:
        """A new best score; beyond the history's size every other old point is dropped."""
        self.best_history.append((elapsed, metric))
        if len(self.best_history) > BEST_HISTORY:
            half = self.best_history[: BEST_HISTORY // 2]
            self.best_history[: BEST_HISTORY // 2] = half[::2]


@dataclass(frozen=True)
class RunState:
    """The parts of one run, wired once by ``open_run`` and handed to every worker."""

    settings: Settings
    competition: Competition
    run_dir: RunDir
    journal: Journal
    tree: SearchTree
    memory: MemoryStore
    coder: Coder
    reviewer: Reviewer
    executor: Executor
    budget: Budget
    accountant: Accountant
    validate: Callable[[Path], Awaitable[ValidationOutcome]]
    description: str
    data_preview: str
    environment: Environment | None = None  # found at run start; the prompt states it
    selection: Selection | None = None  # the holdout (or why none) and what nodes rank by
    status: RunStatus = field(default_factory=RunStatus)
    _best_lock: threading.Lock = field(default_factory=threading.Lock)

    def execution_of(self, node_id: str) -> ExecutionResult | None:
        """A node's full execution result, read back from its folder (``None`` if absent)."""
        return self.run_dir.node(node_id).read_execution()

    def best_node(self) -> Node | None:
        """The best working node; the tree keeps it as nodes commit (direction fixed per run)."""
        return self.tree.best_node()

    def final_node(self) -> Node | None:
        """The node the run ends with: the best working node (at the end, the blend's pick
        when the run blends); when no node printed a metric, the latest one whose submission
        passed validation (a valid file beats none at all)."""
        if self.status.final_pick is not None:
            return self.tree.nodes[self.status.final_pick]
        best = self.tree.best_node()
        if best is not None:
            return best
        valid = (n for n in self.tree.nodes.values() if n.valid_submission)
        return max(valid, key=lambda n: n.step, default=None)

    def choose_final(self) -> Node | None:
        """Settle the node the run ends with: the blend's pick when the run blends (logged
        with what it measured), else :meth:`final_node`. Called once, at the end."""
        selection = self.selection
        if selection is not None and selection.blends and selection.holdout is not None:
            choice = blend_choice(
                list(self.tree.nodes.values()),
                selection.holdout,
                lower_is_better=self.competition.spec.lower_is_better,
            )
            log.info("blend_choice", node=choice.node_id, line=choice.line())
            self.status.final_pick = choice.node_id
        return self.final_node()

    def write_best(self, node: Node, refitted: Path | None = None) -> None:
        """Write ``best/`` for ``node`` unless a better node has overtaken it meanwhile.

        Runs in a worker thread; two new bests in quick succession are written one after the
        other, and a stale one is skipped, so ``best/`` always ends as the tree's best.
        ``refitted``: the submission of the node's script rerun on every training row, which
        replaces the node's own (``node.json`` then says ``"refit": true``).
        """
        with self._best_lock:
            if self.final_node() is not node:
                return
            record = node.model_dump(mode="json")
            if refitted is not None:
                record["refit"] = True
            self.run_dir.write_best(
                record,
                node.code,
                refitted or self.run_dir.node(node.id).find_submission(),
            )
