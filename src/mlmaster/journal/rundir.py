"""Where a run keeps its files, and how they are named: the only place that knows the names.

::

    runs/<competition>/<run-id>/
      settings.json     the settings the run started with (a resume reads them back)
      journal.jsonl     one event a line: run_started | run_resumed, node_committed, run_ended
      run.lock          who holds the run (pid, host, start); flock'ed while a process runs it
      log.jsonl         the run's log, one JSON record a line
      report.html       the report, rewritten during the run and at its end
      input/            the scripts' ./input when a holdout exists: public links, kept train rows
      holdout/          the held rows' answers and what was carved (never mounted for scripts)
      nodes/<node-id>/  one folder per step (see NodeDir)
      best/             solution.py, submission.csv, node.json of the best node so far

Everything else reaches these files through :class:`RunDir` and :class:`NodeDir`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlmaster.errors import UserError
from mlmaster.execution.result import ExecutionResult
from mlmaster.journal.lock import RunLock
from mlmaster.llm.requests import Exchange, Review

SUBMISSION_FILE = "submission.csv"
SOLUTION_FILE = "solution.py"


@dataclass(frozen=True)
class NodeDir:
    """``nodes/<node-id>/``: what one step wrote, each file named once, here.

    ``plan.md`` and ``exchanges.jsonl`` come first (the coder's answer), then ``solution.py``
    and ``workspace/`` (where the script runs), then ``stdout.txt``, ``stderr.txt`` and
    ``execution.json``, then ``review.json``. A step cut short leaves a prefix of these.
    """

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def plan(self) -> Path:
        return self.path / "plan.md"

    @property
    def solution(self) -> Path:
        return self.path / SOLUTION_FILE

    @property
    def stdout(self) -> Path:
        return self.path / "stdout.txt"

    @property
    def stderr(self) -> Path:
        return self.path / "stderr.txt"

    @property
    def execution(self) -> Path:
        return self.path / "execution.json"

    @property
    def review(self) -> Path:
        return self.path / "review.json"

    @property
    def exchanges(self) -> Path:
        return self.path / "exchanges.jsonl"

    @property
    def submission(self) -> Path:
        """The node's own copy of its submission, where one was kept."""
        return self.path / SUBMISSION_FILE

    @property
    def holdout_predictions(self) -> Path:
        """The node's own copy of its holdout predictions, taken from its workspace."""
        return self.path / "holdout.csv"

    @property
    def workspace(self) -> Path:
        """The script's working directory (its layout is the executor's ``Workspace``)."""
        return self.path / "workspace"

    def create(self) -> NodeDir:
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    # ---------------------------------------------------------------- writing
    def write_plan(self, plan: str) -> None:
        self.plan.write_text(plan)

    def write_solution(self, code: str) -> None:
        self.solution.write_text(code)

    def write_execution(self, result: ExecutionResult) -> None:
        """The script's output, and the whole result (the tree keeps only a summary)."""
        self.stdout.write_text(result.stdout.text)
        self.stderr.write_text(result.stderr.text)
        self.execution.write_text(result.model_dump_json(indent=2))

    def write_review(self, review: Review) -> None:
        """The review without its exchange (that is in ``exchanges.jsonl``)."""
        data = review.model_dump(mode="json", exclude={"exchange"})
        self.review.write_text(json.dumps(data, indent=2))

    def append_exchange(self, exchange: Exchange) -> Path:
        """Keep one LLM exchange, one JSON line each, in the order they happened."""
        self.create()
        with self.exchanges.open("a", encoding="utf-8") as file:
            file.write(exchange.model_dump_json() + "\n")
        return self.exchanges

    # ---------------------------------------------------------------- reading
    def read_execution(self) -> ExecutionResult | None:
        """The full execution result, or ``None`` when the step never got that far."""
        try:
            return ExecutionResult.model_validate_json(self.execution.read_text())
        except (OSError, ValueError):
            return None

    def read_text(self, path: Path) -> str:
        """One of this folder's text files; ``""`` when it is missing or unreadable."""
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def find_submission(self) -> Path | None:
        """The submission to keep for this node: its own copy, which the executor took out of
        the workspace following no link. Never the workspace's file: a script controls every
        name there (``submission/`` itself may be a link to the private answers)."""
        candidate = self.submission
        return candidate if candidate.is_file() and not candidate.is_symlink() else None


@dataclass(frozen=True)
class RunDir:
    path: Path

    @classmethod
    def create(cls, runs_dir: Path, competition_id: str, run_id: str | None = None) -> RunDir:
        """A new run directory; the id is a UTC timestamp unless given. Never reuses one.

        The path is absolute: it is handed to sandboxes and links, which resolve a relative
        path against another folder than ours."""
        base = runs_dir.resolve() / competition_id
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        base.mkdir(parents=True, exist_ok=True)
        candidate, n = base / run_id, 1
        while True:
            try:
                candidate.mkdir()  # atomic: two runs started at once get two folders
                break
            except FileExistsError:
                n += 1
                candidate = base / f"{run_id}-{n}"
        run = cls(candidate)
        run.nodes.mkdir()
        return run

    @classmethod
    def existing(cls, path: Path) -> RunDir:
        """An existing run directory; a folder without a journal is refused in one line."""
        if not (path / "journal.jsonl").is_file():
            raise UserError(
                f"{path} is not a run directory (no journal.jsonl in it); "
                "pass a folder like runs/<competition>/<run-id>"
            )
        return cls(path.resolve())

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def journal(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def settings(self) -> Path:
        return self.path / "settings.json"

    @property
    def lock_file(self) -> Path:
        return self.path / "run.lock"

    @property
    def log(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def report(self) -> Path:
        return self.path / "report.html"

    @property
    def nodes(self) -> Path:
        return self.path / "nodes"

    @property
    def input_dir(self) -> Path:
        """The derived input folder scripts see as ./input when the run has a holdout."""
        return self.path / "input"

    @property
    def refit_dir(self) -> Path:
        """Where the chosen node's script is rerun on every training row (selection.refit)."""
        return self.path / "refit"

    @property
    def holdout_dir(self) -> Path:
        """The held rows' answers and what was carved: out of every script's reach."""
        return self.path / "holdout"

    @property
    def best(self) -> Path:
        return self.path / "best"

    @property
    def best_submission(self) -> Path:
        return self.best / SUBMISSION_FILE

    def node(self, node_id: str) -> NodeDir:
        """The folder of node ``node_id``; an id that is not a plain name is refused."""
        if node_id in ("", ".", "..") or "\0" in node_id or Path(node_id).name != node_id:
            raise ValueError(f"{node_id!r} is not a node id")
        return NodeDir(self.nodes / node_id)

    def node_dirs(self) -> Iterator[NodeDir]:
        """Every node folder on disk, committed or not, by name."""
        if not self.nodes.is_dir():
            return
        for path in sorted(self.nodes.iterdir()):
            if path.is_dir() and not path.is_symlink():
                yield NodeDir(path)

    def lock(self) -> RunLock:
        """Hold the run for this process (see :mod:`mlmaster.journal.lock`)."""
        return RunLock.acquire(self.lock_file)

    def write_settings(self, data: dict[str, Any]) -> None:
        self.settings.write_text(json.dumps(data, indent=2) + "\n")

    def write_best(self, node: dict[str, Any], solution: str, submission: Path | None) -> None:
        """Replace ``best/`` as a whole, so it never mixes two nodes' files."""
        staging = Path(tempfile.mkdtemp(prefix="best.", dir=self.path))
        (staging / SOLUTION_FILE).write_text(solution)
        (staging / "node.json").write_text(json.dumps(node, indent=2, default=str) + "\n")
        if submission is not None and submission.is_file():
            shutil.copyfile(submission, staging / SUBMISSION_FILE)
        # Swap the old folder out first so ``best/`` is never half written.
        old = self.path / f"best.old.{staging.name}"
        if self.best.exists():
            self.best.rename(old)
        staging.rename(self.best)
        shutil.rmtree(old, ignore_errors=True)
