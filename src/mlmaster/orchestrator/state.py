"""Everything one run shares, wired once by the orchestrator and handed to every worker."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
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
from mlmaster.memory import MemoryStore
from mlmaster.orchestrator.budget import Budget
from mlmaster.orchestrator.timing import StepTiming
from mlmaster.search import SearchTree
from mlmaster.search.node import Node
from mlmaster.settings import Settings


@dataclass
class RunState:
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
    execution_results: dict[str, ExecutionResult] = field(default_factory=dict)
    committed: anyio.Event = field(default_factory=anyio.Event)
    stop_reason: str | None = None
    failures: int = 0  # steps that raised instead of committing
    failures_in_a_row: int = 0
    fatal: bool = False  # a failure no retry can fix (e.g. the endpoint refuses our key)
    _best_lock: threading.Lock = field(default_factory=threading.Lock)
    step_timings: list[StepTiming] = field(default_factory=list)  # one per committed node

    @contextlib.contextmanager
    def tree_section(self) -> Iterator[None]:
        """A critical section on the tree. Synchronous on purpose: no await can sit inside,
        so on one event loop the section runs whole, and the tree stays consistent."""
        yield

    def execution_of(self, node_id: str) -> ExecutionResult | None:
        """A node's full execution result: kept in memory, or read back after a resume."""
        if node_id not in self.execution_results:
            result = self.run_dir.node(node_id).read_execution()
            if result is None:
                return None
            self.execution_results[node_id] = result
        return self.execution_results[node_id]

    def best_node(self) -> Node | None:
        """The best working node; the tree keeps it as nodes commit (direction fixed per run)."""
        return self.tree.best_node()

    def write_best(self, node: Node) -> None:
        """Write ``best/`` for ``node`` unless a better node has overtaken it meanwhile.

        Runs in a worker thread; two new bests in quick succession are written one after the
        other, and a stale one is skipped, so ``best/`` always ends as the tree's best.
        """
        with self._best_lock:
            if self.tree.best_node() is not node:
                return
            self.run_dir.write_best(
                node.model_dump(mode="json"),
                node.code,
                self.run_dir.node(node.id).find_submission(),
            )

    def signal_commit(self) -> None:
        """Wake workers waiting for the tree to change (anyio events fire once: renew it)."""
        self.committed.set()
        self.committed = anyio.Event()
