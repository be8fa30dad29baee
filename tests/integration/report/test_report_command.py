"""`mlmaster report RUN_DIR` as a user runs it: a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlmaster.journal import Journal, NodeCommitted, RunStarted
from mlmaster.search.node import Node


def mlmaster(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    return subprocess.run(
        [sys.executable, "-m", "mlmaster", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_report_command_writes_the_report(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "toy" / "run-1"
    (run_dir / "nodes").mkdir(parents=True)
    journal = Journal(run_dir / "journal.jsonl")
    journal.append_sync(RunStarted(competition="toy", lower_is_better=True))
    journal.append_sync(NodeCommitted(node=Node(id="a", operator="draft", metric=0.3, plan="p")))
    journal.close()

    done = mlmaster("report", str(run_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run_dir / "report.html")
    html = (run_dir / "report.html").read_text()
    assert 'data-node="a"' in html

    # Run again: the report is replaced, not appended to or duplicated.
    assert mlmaster("report", str(run_dir)).returncode == 0
    assert (run_dir / "report.html").read_text().count('data-node="a"') == html.count(
        'data-node="a"'
    )


def test_a_folder_without_a_journal_is_refused_clearly(tmp_path: Path) -> None:
    done = mlmaster("report", str(tmp_path))
    assert done.returncode == 2
    assert "not a run directory (no journal.jsonl" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_folder_is_refused_clearly(tmp_path: Path) -> None:
    done = mlmaster("report", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert "is not a folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_damaged_journal_still_reports_naming_each_bad_line(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").write_text('{"type": "run_started"}\nnot json\n{"type": "x"}\n')
    done = mlmaster("report", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for number in (1, 2, 3):
        assert f"line {number}: " in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "report.html").is_file()
