"""`mlmaster run` as a user runs it: a real process, the offline coder, real scripts."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition
from mlmaster.journal import NodeCommitted, RunEnded, RunResumed, RunStarted, read_events


def only_run_dir(runs: Path, competition: str) -> Path:
    [run_dir] = list((runs / competition).iterdir())
    return run_dir


def test_offline_run_ends_with_a_valid_graded_submission(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs, output = tmp_path / "runs", tmp_path / "out" / "submission.csv"
    done = cli.run(
        *_digits_run(suite_dir, runs),
        *("--output", str(output), "--time-limit", "3m", "--max-steps", "3"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "best" in done.stderr.splitlines()[-1]

    report = grade_submission(load_competition(suite_dir, "digits"), output)
    assert report.valid_submission and report.score is not None

    run_dir = only_run_dir(runs, "digits")
    events = read_events(run_dir / "journal.jsonl")
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunEnded)
    nodes = [e.node for e in events if isinstance(e, NodeCommitted)]
    assert len(nodes) >= 2
    assert {n.operator for n in nodes} >= {"draft"}
    best = json.loads((run_dir / "best" / "node.json").read_text())
    assert best["metric"] == events[-1].best_metric
    assert (run_dir / "best" / "submission.csv").read_bytes() == output.read_bytes()
    assert (run_dir / "best" / "solution.py").read_text() == best["code"]
    assert (run_dir / "settings.json").is_file()
    assert (run_dir / "log.jsonl").stat().st_size > 0
    for node in nodes:
        assert (run_dir / "nodes" / node.id / "solution.py").is_file()


def _digits_run(suite_dir: Path, runs: Path) -> list[str]:
    """`mlmaster run digits` on the ci profile, with the test's data and runs folders."""
    return [
        "run",
        "digits",
        "--profile",
        "ci",
        "--data-dir",
        str(suite_dir),
        "--runs-dir",
        str(runs),
    ]


def _start(cli: Any, suite_dir: Path, runs: Path, *extra: str) -> subprocess.Popen[str]:
    return cli.start(*_digits_run(suite_dir, runs), *extra)


def _wait_for_nodes(runs: Path, count: int, proc: subprocess.Popen[str], limit: float) -> Path:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        folder = runs / "digits"
        if folder.is_dir():
            for run_dir in folder.iterdir():
                journal = run_dir / "journal.jsonl"
                if journal.is_file():
                    events = read_events(journal)
                    if sum(isinstance(e, NodeCommitted) for e in events) >= count:
                        return run_dir
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} nodes after {limit} s")


def test_sigint_ends_cleanly_with_outputs(suite_dir: Path, tmp_path: Path, cli: Any) -> None:
    runs = tmp_path / "runs"
    proc = _start(cli, suite_dir, runs, "--time-limit", "10m", "--output", str(tmp_path / "s.csv"))
    run_dir = _wait_for_nodes(runs, 1, proc, 120)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-3000:]
    events = read_events(run_dir / "journal.jsonl")
    assert isinstance(events[-1], RunEnded)
    assert "SIGINT" in events[-1].reason
    assert "Traceback" not in stderr


def test_sigkill_then_resume_keeps_every_journalled_node(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    proc = _start(cli, suite_dir, runs, "--time-limit", "10m")
    run_dir = _wait_for_nodes(runs, 2, proc, 150)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = {
        e.node.id for e in read_events(run_dir / "journal.jsonl") if isinstance(e, NodeCommitted)
    }
    done = cli.run(
        "run",
        "digits",
        "--profile",
        "ci",
        "--data-dir",
        str(suite_dir),
        "--resume",
        str(run_dir),
        "--max-steps",
        str(len(before) + 2),
        "--time-limit",
        "10m",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = read_events(run_dir / "journal.jsonl")
    after = [e.node.id for e in events if isinstance(e, NodeCommitted)]
    assert before <= set(after)
    assert len(after) == len(set(after))  # no node journalled twice
    assert len(after) > len(before)
    assert any(isinstance(e, RunResumed) for e in events)
    assert isinstance(events[-1], RunEnded)


def test_relative_data_and_runs_folders_work_as_make_demo_gives_them(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    """`make demo` passes `--data-dir data` and leaves runs in `runs/`: paths relative to the
    working folder, which the sandbox and the holdout's links must not resolve elsewhere."""
    (tmp_path / "data").symlink_to(suite_dir)
    done = subprocess.run(
        cli.argv(
            *("run", "digits", "--profile", "ci", "--data-dir", "data"),
            *("--max-steps", "3", "--output", "runs/submission.csv"),
        ),
        capture_output=True,
        text=True,
        env=cli.env(),
        cwd=tmp_path,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = list((tmp_path / "runs" / "digits").iterdir())
    nodes = [e.node for e in read_events(run_dir / "journal.jsonl") if isinstance(e, NodeCommitted)]
    assert any(node.working for node in nodes), [node.bug_reason for node in nodes]
    assert (tmp_path / "runs" / "submission.csv").is_file()
