"""What has run: each run's state, read from the sweep directory alone (any backend, any host).

A run is *finished* once its outcome record ``<competition>/seed-<n>.json`` says it ended on its
own (exit 0: a submission; 1: none found); *started* while its run directory holds a journal
but no such record (running now, or killed: ``--resume`` continues it from the journal); and
*pending* otherwise.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import BaseModel, ValidationError

from mlmaster.competition.grading import GradeReport
from mlmaster.journal import RunDir
from mlmaster.sweep.plan import RunKey

# Exit codes of a run that ended by itself; anything else (a refusal, a signal) is retried.
ENDED_CODES = frozenset({0, 1})


class RunState(enum.StrEnum):
    PENDING = "pending"
    STARTED = "started"
    FINISHED = "finished"


class RunRecord(BaseModel):
    """A run's outcome as the sweep keeps it: how it ended, and its grade."""

    competition: str
    seed: int
    exit_code: int
    stop_reason: str
    nodes: int = 0
    best_metric: float | None = None
    cpus: list[int] | None = None
    gpus: list[int] | None = None
    host: str = ""
    grade: GradeReport | None = None
    note: str | None = None  # why it was not graded, or why it failed

    @property
    def ended(self) -> bool:
        return self.exit_code in ENDED_CODES


def run_dir(sweep_dir: Path, key: RunKey) -> Path:
    return sweep_dir / key.competition / f"seed-{key.seed}"


def record_path(sweep_dir: Path, key: RunKey) -> Path:
    return sweep_dir / key.competition / f"seed-{key.seed}.json"


def log_path(sweep_dir: Path, key: RunKey) -> Path:
    return sweep_dir / key.competition / f"seed-{key.seed}.log"


def where_path(sweep_dir: Path, key: RunKey) -> Path:
    """Where the run executes now: host, pid and start time (the latest attempt's)."""
    return sweep_dir / key.competition / f"seed-{key.seed}.where.json"


def read_record(sweep_dir: Path, key: RunKey) -> RunRecord | None:
    try:
        return RunRecord.model_validate_json(record_path(sweep_dir, key).read_text())
    except FileNotFoundError:
        return None
    except (ValidationError, ValueError):
        return None  # damaged: the run is treated as not finished and done again


def write_record(sweep_dir: Path, record: RunRecord) -> None:
    """Write atomically: a reader never sees half a record."""
    key = RunKey(competition=record.competition, seed=record.seed)
    path = record_path(sweep_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(record.model_dump_json(indent=2) + "\n")
    partial.replace(path)


def state_of(sweep_dir: Path, key: RunKey) -> RunState:
    record = read_record(sweep_dir, key)
    if record is not None and record.ended:
        return RunState.FINISHED
    if RunDir(run_dir(sweep_dir, key)).journal.is_file():
        return RunState.STARTED
    return RunState.PENDING
