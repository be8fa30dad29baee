"""Helpers of the sweep tests: the sweep command as a user runs it, and what to read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mlmaster.journal import NodeCommitted, read_events

COMPETITIONS = ("breast-cancer", "diabetes")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}


def sweep_argv(data: Path, sweep_dir: Path, *extra: str) -> list[str]:
    """Two competitions x two seeds on the ci profile, short runs of a few nodes each."""
    return [
        sys.executable,
        "-m",
        "mlmaster",
        "sweep",
        "--competitions",
        ",".join(COMPETITIONS),
        "--seeds",
        "2",
        "--profile",
        "ci",
        "--data-dir",
        str(data),
        "--sweep-dir",
        str(sweep_dir),
        "--cpus-per-run",
        "1",
        "--time-limit",
        "90s",
        "--max-steps",
        "3",
        *extra,
    ]


def committed_nodes(run_dir: Path) -> int:
    journal = run_dir / "journal.jsonl"
    if not journal.is_file():
        return 0
    return sum(1 for event in read_events(journal) if isinstance(event, NodeCommitted))


def event_types(run_dir: Path) -> list[str]:
    return [event.type for event in read_events(run_dir / "journal.jsonl")]


def wait_for_a_working_run(sweep_dir: Path, proc: subprocess.Popen[str], limit: float) -> Path:
    """The marker of a run that is executing now and has committed a node."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        for where in sweep_dir.glob("*/seed-*.where.json"):
            run_dir = where.parent / where.name.removesuffix(".where.json")
            record = where.parent / f"{run_dir.name}.json"
            if not record.exists() and committed_nodes(run_dir) >= 1:
                return where
        time.sleep(0.2)
    raise AssertionError(f"no run committed a node within {limit} s")


def pid_of(where: Path) -> int:
    return int(json.loads(where.read_text())["pid"])
