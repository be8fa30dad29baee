"""The run directory as a user meets it: its files, its lock, and --output, end to end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from mlmaster.competition.layout import load_competition
from mlmaster.journal import NodeCommitted, RunDir, RunEnded, read_journal
from mlmaster.orchestrator.run import open_run, search
from mlmaster.settings import load_settings


def offline_settings(tmp_path: Path, steps: int) -> Any:
    return load_settings(
        "ci",
        overrides={
            "run": {"runs_dir": str(tmp_path / "runs")},
            "budget": {"max_steps": steps, "time_limit": "4m"},
        },
        environ={},
    )


async def test_a_failed_copy_comes_last_and_costs_the_run_nothing(
    suite_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    output = tmp_path / "a-file" / "submission.csv"  # its folder is a file: the copy fails
    settings = offline_settings(tmp_path, steps=2)
    async with open_run(settings, load_competition(suite_dir, "digits")) as state:
        outcome = await search(state, output=output, handle_signals=False)

    assert outcome.best_id is not None
    assert outcome.output is None and outcome.exit_code == 1
    assert outcome.output_error is not None
    assert "could not copy the best submission to" in outcome.output_error
    assert "\n" not in outcome.output_error
    run = RunDir.existing(outcome.run_dir)
    # The run's own record was made before the copy was tried.
    events = read_journal(run.journal).events
    assert isinstance(events[-1], RunEnded) and events[-1].best == outcome.best_id
    assert run.report.is_file() and run.best_submission.is_file()
    assert f"it is in {run.best_submission}" in outcome.output_error
    # Every committed node left its files under the names NodeDir gives them.
    for event in events:
        if isinstance(event, NodeCommitted):
            folder = run.node(event.node.id)
            for path in (folder.plan, folder.solution, folder.stdout, folder.execution):
                assert path.is_file(), path
            assert folder.read_execution() is not None
    assert run.lock_file.is_file() and run.settings.is_file() and run.log.is_file()


def test_a_bad_output_is_refused_before_the_search(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    args = ["run", "digits", "--profile", "ci", "--data-dir", str(suite_dir)]
    done = cli.run(*args, "--runs-dir", str(runs), "--output", str(tmp_path), timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("mlmaster: ") and "is a folder" in line
    assert not runs.exists()  # nothing was started


def test_resuming_a_run_another_process_holds_exits_2_naming_it(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    args = ["run", "digits", "--profile", "ci", "--data-dir", str(suite_dir)]
    first = cli.run(*args, "--runs-dir", str(runs), "--max-steps", "1", timeout=240)
    assert first.returncode in (0, 1), first.stderr[-2000:]
    [run_dir] = list((runs / "digits").iterdir())
    hold = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from mlmaster.journal import RunDir
        lock = RunDir(Path(sys.argv[1])).lock()
        print("locked", flush=True)
        time.sleep(300)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert any(line.strip() == "locked" for line in holder.stdout)
        journal_before = (run_dir / "journal.jsonl").read_bytes()
        done = cli.run(*args, "--resume", str(run_dir), "--max-steps", "3", timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"is in use by process {holder.pid}" in done.stderr
    assert "Traceback" not in done.stderr
    assert (run_dir / "journal.jsonl").read_bytes() == journal_before  # not touched
