"""Synthetic run directories, written the way a run writes them (through the real Journal).

Tests use the fixtures only (no imports from here), so they work in any pytest import mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlmaster.journal import Journal, NodeCommitted, RunEnded, RunResumed, RunStarted
from mlmaster.llm.accounting import RunTotals
from mlmaster.search.node import Node

START = 1_700_000_000.0


class RunBuilder:
    start_time = START

    def __init__(self, path: Path, *, lower_is_better: bool = False) -> None:
        self.path = path
        (path / "nodes").mkdir(parents=True)
        self.journal = Journal(path / "journal.jsonl")
        self.lower_is_better = lower_is_better

    def start(self, kind: str = "run_started") -> None:
        session = RunResumed if kind == "run_resumed" else RunStarted
        self.journal.append_sync(
            session(
                competition="toy-competition",
                public_dir="/data/toy/prepared/public",
                lower_is_better=self.lower_is_better,
                settings={},
                started=START,
            )
        )

    def node(
        self,
        node_id: str,
        *,
        parent: str | None = None,
        metric: float | None = None,
        buggy: bool | None = None,
        finished: float = 0.0,
        **extra: Any,
    ) -> dict[str, Any]:
        buggy = metric is None if buggy is None else buggy
        record: dict[str, Any] = {
            "id": node_id,
            "parent_id": parent,
            "operator": "draft" if parent is None else ("debug" if buggy else "improve"),
            "plan": f"plan of {node_id}",
            "code": f"print({node_id!r})",
            "metric": metric,
            "valid_submission": not buggy,
            "buggy": buggy,
            "bug_reason": "exit code 1" if buggy else None,
            "review_summary": f"review of {node_id}",
            "execution": {"exit_code": 1 if buggy else 0, "runtime": 2.5, "output_tail": "done"},
            "finished_at": START + finished,
            "worker_id": "w0",
            "tokens": 100,
            "cost": 0.01,
        }
        record.update(extra)
        self.journal.append_sync(NodeCommitted(node=Node.model_validate(record)))
        return record

    def end(self, *, best: str | None = None, elapsed: float = 60.0, roles: Any = None) -> None:
        self.journal.append_sync(
            RunEnded(
                reason="time limit reached",
                best=best,
                best_metric=None,
                elapsed=elapsed,
                totals=RunTotals.model_validate({"roles": roles if roles is not None else {}}),
            )
        )

    def folder(self, node_id: str, **files: str) -> Path:
        folder = self.path / "nodes" / node_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name.replace("_", ".", 1)).write_text(text)
        return folder

    def exchange(self, node_id: str, role: str, inp: int, out: int, cost: float) -> None:
        folder = self.folder(node_id)
        line = {
            "role": role,
            "node_id": node_id,
            "api_style": "chat",
            "model": "m",
            "request": {},
            "response_text": "",
            "usage": {"input_tokens": inp, "output_tokens": out, "cost": cost},
            "latency": 1.0,
        }
        with (folder / "exchanges.jsonl").open("a") as file:
            file.write(json.dumps(line) + "\n")


@pytest.fixture
def run(tmp_path: Path) -> Iterator[RunBuilder]:
    builder = RunBuilder(tmp_path / "runs" / "toy-competition" / "run-1")
    yield builder
    builder.journal.close()


@pytest.fixture
def lower_run(tmp_path: Path) -> Iterator[RunBuilder]:
    builder = RunBuilder(tmp_path / "runs" / "toy-competition" / "run-2", lower_is_better=True)
    yield builder
    builder.journal.close()
