"""One run of a sweep, wherever it executes (a local process, a Ray worker): run or resume it,
grade its submission, and write its outcome record into the sweep directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mlmaster import api
from mlmaster.errors import UserError
from mlmaster.journal import RunDir
from mlmaster.settings import Settings, SettingsLoadError, load_settings
from mlmaster.sweep.plan import RunKey
from mlmaster.sweep.status import RunRecord, log_path, run_dir, where_path, write_record


class SweepTask(BaseModel):
    """Everything a run needs, as plain data: it crosses a process or a cluster."""

    key: RunKey
    sweep_dir: Path
    profile: str | None = None
    overrides: dict[str, Any] = {}
    cpus: list[int] | None = None  # a disjoint share of this machine (local backend)
    gpus: list[int] | None = None
    pin: bool = False  # also pin this process (the run's orchestrator) to ``cpus``
    environment: dict[str, str] = {}  # MLMASTER_* variables to set first (Ray workers)


def execute(task: SweepTask, *, handle_signals: bool = True) -> RunRecord:
    """Run (or resume) the task's run to its end, grade it, and record the outcome."""
    os.environ.update(task.environment)
    if task.pin and task.cpus:
        os.sched_setaffinity(0, task.cpus)
    folder = run_dir(task.sweep_dir, task.key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    resume = folder if RunDir(folder).journal.is_file() else None
    if resume is None and folder.exists():
        # Made but killed before its journal existed: nothing was committed in it.
        shutil.rmtree(folder)
    _say_where(where_path(task.sweep_dir, task.key))
    record = _run(task, resume, handle_signals)
    write_record(task.sweep_dir, record)
    return record


def _say_where(path: Path) -> None:
    """Which host and process execute the run now (written whole: readers poll it)."""
    partial = path.with_suffix(".partial")
    partial.write_text(
        json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()})
    )
    partial.replace(path)


def execute_logged(task: SweepTask, *, handle_signals: bool = True) -> RunRecord:
    """:func:`execute` with this process's output going to the run's log file."""
    path = log_path(task.sweep_dir, task.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _output_to(path):
        return execute(task, handle_signals=handle_signals)


def _run(task: SweepTask, resume: Path | None, handle_signals: bool) -> RunRecord:
    base = RunRecord(
        competition=task.key.competition,
        seed=task.key.seed,
        exit_code=2,
        stop_reason="",
        cpus=task.cpus,
        gpus=task.gpus,
        host=socket.gethostname(),
    )
    try:
        settings = _settings(task, resume)
        outcome = api.run(settings, resume=resume, handle_signals=handle_signals)
    except SettingsLoadError as error:
        return base.model_copy(update={"stop_reason": "refused", "note": str(error)})
    except UserError as error:
        return base.model_copy(update={"stop_reason": "refused", "note": str(error)})
    record = base.model_copy(
        update={
            "exit_code": outcome.exit_code,
            "stop_reason": outcome.stop_reason,
            "nodes": outcome.nodes,
            "best_metric": outcome.best_metric,
        }
    )
    return _graded(record, settings, outcome.run_dir)


def _settings(task: SweepTask, resume: Path | None) -> Settings:
    key = task.key
    per_run: dict[str, Any] = {
        "run": {
            "competition": key.competition,
            "seed": key.seed,
            "runs_dir": str(task.sweep_dir),
            "run_id": f"seed-{key.seed}",
        },
        "execution": {},
    }
    if task.cpus is not None:
        per_run["execution"]["cpus"] = ",".join(map(str, task.cpus))
    if task.gpus is not None:
        per_run["execution"]["gpus"] = ",".join(map(str, task.gpus)) or "none"
    overrides = _merged(task.overrides, per_run)
    saved = api.saved_settings(resume) if resume is not None else None
    settings = load_settings(
        profile=task.profile,
        overrides=overrides,
        resumed=saved,
        resumed_from=str(api.settings_file(resume)) if resume else "resumed run",
    )
    # Every run of a sweep would copy its submission to the same file: the sweep keeps each
    # run's in its own best/ instead.
    settings.run.output = None
    # The run's execution slots are carved inside its share: never more slots than CPUs.
    slots = settings.execution.slots
    if task.cpus and slots is not None and slots > len(task.cpus):
        settings.execution.slots = len(task.cpus)
    return settings


def _graded(record: RunRecord, settings: Settings, folder: Path) -> RunRecord:
    """Grade the run's submission against the private answers, where the data has them."""
    from mlmaster.competition.grading import grade_submission
    from mlmaster.competition.layout import load_competition

    if settings.run.public_dir is not None:
        return record.model_copy(update={"note": "not graded: a --public-dir run has no answers"})
    try:
        competition = load_competition(settings.run.data_dir, record.competition)
        grade = grade_submission(competition, RunDir(folder).best_submission)
    except UserError as error:
        return record.model_copy(update={"note": f"not graded: {error}"})
    return record.model_copy(update={"grade": grade})


def _merged(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = {group: dict(values) for group, values in base.items()}
    for group, values in top.items():
        merged.setdefault(group, {}).update(values)
    return merged


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors too) to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
