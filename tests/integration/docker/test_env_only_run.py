"""A run configured by environment variables alone: no flags, no settings files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition

MLMASTER_BIN = Path(sys.executable).parent / "mlmaster"
EnvFactory = Callable[..., dict[str, str]]


@pytest.mark.timeout(180)
async def test_mlmaster_run_from_the_environment_alone(
    tiny, child_env: EnvFactory, tmp_path: Path
) -> None:
    no_profiles = tmp_path / "no-settings"  # an empty settings folder: code defaults + env only
    await anyio.Path(no_profiles).mkdir()
    output = tmp_path / "out" / "submission.csv"
    env = child_env(
        MLMASTER_SETTINGS_DIR=str(no_profiles),
        MLMASTER_RUN__COMPETITION=tiny.id,
        MLMASTER_RUN__DATA_DIR=str(tiny.data_dir),
        MLMASTER_RUN__RUNS_DIR=str(tmp_path / "runs"),
        MLMASTER_RUN__RUN_ID="from-env",
        MLMASTER_RUN__OUTPUT=str(output),
        MLMASTER_BUDGET__TIME_LIMIT="60s",
        MLMASTER_BUDGET__EXEC_TIMEOUT="30s",
        MLMASTER_BUDGET__FINAL_RESERVE="3s",
        MLMASTER_BUDGET__MAX_STEPS="1",
        MLMASTER_EXECUTION__GPUS="none",
        MLMASTER_EXECUTION__SLOTS="1",
        MLMASTER_LLM__CODER__PROVIDER="offline",
        MLMASTER_LLM__FEEDBACK__PROVIDER="offline",
    )
    done = await anyio.run_process([str(MLMASTER_BIN), "run"], env=env, cwd=tmp_path, check=False)
    text = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert done.returncode == 0, text[-4000:]
    _check_run(tiny, tmp_path / "runs" / tiny.id / "from-env", output, text)


def _check_run(tiny, run_dir: Path, output: Path, text: str) -> None:
    assert (run_dir / "journal.jsonl").is_file(), text[-4000:]
    saved = json.loads((run_dir / "settings.json").read_text())
    assert saved["run"]["competition"] == tiny.id
    assert saved["budget"]["max_steps"] == 1
    assert saved["execution"]["slots"] == 1
    assert output.is_file(), text[-4000:]
    report = grade_submission(load_competition(tiny.data_dir, tiny.id), output)
    assert report.valid_submission, report


async def test_without_a_competition_the_run_says_how_to_name_one(
    child_env: EnvFactory, tmp_path: Path
) -> None:
    env = child_env(MLMASTER_SETTINGS_DIR=str(tmp_path))
    done = await anyio.run_process([str(MLMASTER_BIN), "run"], env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert b"MLMASTER_RUN__COMPETITION" in done.stderr
