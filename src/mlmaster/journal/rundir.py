"""Where a run keeps its files, and how they are named.

::

    runs/<competition>/<run-id>/
      settings.json   journal.jsonl   log.jsonl   report.html
      nodes/<node-id>/   solution.py, stdout.txt, submission.csv, exchanges.jsonl, workspace/
      best/              solution.py, submission.csv, node.json
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlmaster.errors import UserError


@dataclass(frozen=True)
class RunDir:
    path: Path

    @classmethod
    def create(cls, runs_dir: Path, competition_id: str, run_id: str | None = None) -> RunDir:
        """A new run directory; the id is a UTC timestamp unless given. Never reuses one."""
        base = runs_dir / competition_id
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        candidate, n = base / run_id, 1
        while candidate.exists():
            n += 1
            candidate = base / f"{run_id}-{n}"
        candidate.mkdir(parents=True)
        (candidate / "nodes").mkdir()
        return cls(candidate)

    @classmethod
    def existing(cls, path: Path) -> RunDir:
        if not (path / "journal.jsonl").is_file():
            raise UserError(f"{path} is not a run directory (no journal.jsonl in it)")
        return cls(path)

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
    def log(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def report(self) -> Path:
        return self.path / "report.html"

    @property
    def best(self) -> Path:
        return self.path / "best"

    def node(self, node_id: str) -> Path:
        return self.path / "nodes" / node_id

    def write_settings(self, data: dict[str, Any]) -> None:
        self.settings.write_text(json.dumps(data, indent=2) + "\n")

    def write_best(self, node: dict[str, Any], solution: str, submission: Path | None) -> None:
        """Replace ``best/`` as a whole, so it never mixes two nodes' files."""
        staging = Path(tempfile.mkdtemp(prefix="best.", dir=self.path))
        (staging / "solution.py").write_text(solution)
        (staging / "node.json").write_text(json.dumps(node, indent=2, default=str) + "\n")
        if submission is not None and submission.is_file():
            shutil.copyfile(submission, staging / "submission.csv")
        # Swap the old folder out first so ``best/`` is never half written.
        old = self.path / f"best.old.{staging.name}"
        if self.best.exists():
            self.best.rename(old)
        staging.rename(self.best)
        shutil.rmtree(old, ignore_errors=True)
