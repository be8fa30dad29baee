"""docker/start.sh on the host, its MLE-bench paths pointed at temporary folders.

The validation server MLE-bench runs at localhost:5000 is played by ours, on a free loopback
port, serving the same competition (with its private answers, which start.sh never sees: it
gets only the public folder, as inside MLE-bench's container).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pandas as pd
import pytest

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.server import running_server

START_SH = Path(__file__).resolve().parents[3] / "docker" / "start.sh"
MLMASTER_BIN = Path(sys.executable).parent / "mlmaster"
EnvFactory = Callable[..., dict[str, str]]


def _folders(root: Path) -> dict[str, str]:
    names = {"SUBMISSION_DIR": "submission", "CODE_DIR": "code", "LOGS_DIR": "logs"}
    return {variable: str(root / folder) for variable, folder in names.items()} | {
        "AGENT_DIR": str(root / "agent")
    }


@pytest.mark.timeout(180)
async def test_start_script_leaves_submission_code_and_logs(
    tiny, child_env: EnvFactory, tmp_path: Path
) -> None:
    competition = load_competition(tiny.data_dir, tiny.id)
    folders = _folders(tmp_path)
    async with running_server(competition) as url:
        env = child_env(
            COMPETITION_ID=tiny.id,
            DATA_DIR=str(tiny.public_dir),
            TIME_LIMIT_SECS="60",
            MLMASTER_GRADER__URL=url,
            MLMASTER_PROFILE="ci",
            MLMASTER_BUDGET__MAX_STEPS="1",
            MLMASTER_EXECUTION__SLOTS="1",
            **folders,
        )
        done = await anyio.run_process(["bash", str(START_SH)], env=env, cwd=tmp_path, check=False)
    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert done.returncode == 0, output[-4000:]
    _check_outputs(competition, folders, output, url)


def _check_outputs(
    competition: Competition, folders: dict[str, str], output: str, grader_url: str
) -> None:
    submission = Path(folders["SUBMISSION_DIR"]) / "submission.csv"
    assert submission.is_file(), output[-4000:]
    report = grade_submission(competition, submission)
    assert report.valid_submission, report
    assert list(pd.read_csv(submission).columns) == ["id", "target"]

    solution = Path(folders["CODE_DIR"]) / "solution.py"
    assert solution.is_file()
    assert "import" in solution.read_text()

    logs = Path(folders["LOGS_DIR"])
    assert (logs / "console.log").is_file()
    run_dirs = [p for p in logs.iterdir() if p.is_dir()]
    assert len(run_dirs) == 1, sorted(p.name for p in logs.iterdir())
    assert (run_dirs[0] / "journal.jsonl").is_file()
    assert (run_dirs[0] / "log.jsonl").is_file()
    # The logs keep each node's code and output, never the scripts' workspaces.
    assert list(run_dirs[0].glob("nodes/*/solution.py"))
    assert not list(run_dirs[0].glob("nodes/*/workspace"))
    # Submissions were checked by the server start.sh was pointed at, not an embedded one.
    settings = json.loads((run_dirs[0] / "settings.json").read_text())
    assert settings["grader"]["url"] == grader_url
    # The run itself lived in the agent folder, not in the working directory.
    runs = Path(folders["AGENT_DIR"]) / "runs" / competition.spec.id
    assert (runs / run_dirs[0].name).is_dir()


async def test_missing_competition_id_is_a_clear_error(
    child_env: EnvFactory, tmp_path: Path
) -> None:
    env = child_env(DATA_DIR=str(tmp_path), **_folders(tmp_path))
    done = await anyio.run_process(["bash", str(START_SH)], env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert b"COMPETITION_ID is not set" in done.stderr
    assert not await anyio.Path(tmp_path / "submission").exists()


async def test_missing_data_folder_is_a_clear_error(
    tiny, child_env: EnvFactory, tmp_path: Path
) -> None:
    env = child_env(COMPETITION_ID=tiny.id, DATA_DIR=str(tmp_path / "absent"), **_folders(tmp_path))
    done = await anyio.run_process(["bash", str(START_SH)], env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert b"the data folder" in done.stderr and b"absent" in done.stderr


async def test_bad_time_limit_is_a_clear_error(tiny, child_env: EnvFactory, tmp_path: Path) -> None:
    env = child_env(
        COMPETITION_ID=tiny.id,
        DATA_DIR=str(tiny.public_dir),
        TIME_LIMIT_SECS="12h",
        **_folders(tmp_path),
    )
    done = await anyio.run_process(["bash", str(START_SH)], env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert b"TIME_LIMIT_SECS must be a whole number" in done.stderr


async def test_missing_mlmaster_is_a_clear_error(
    tiny, child_env: EnvFactory, tmp_path: Path
) -> None:
    env = child_env(
        COMPETITION_ID=tiny.id,
        DATA_DIR=str(tiny.public_dir),
        MLMASTER_BIN=str(tmp_path / "no-such-mlmaster"),
        **_folders(tmp_path),
    )
    done = await anyio.run_process(["bash", str(START_SH)], env=env, cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert b"is not on PATH" in done.stderr
