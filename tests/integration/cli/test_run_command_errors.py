"""`mlmaster run` refuses bad input with one clear line, exit 2, and no run directory left."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlmaster.competition.suite.build import build_suite


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("data")
    build_suite(dest, only=["diabetes"])
    return dest


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["nope"], {}, "unknown competition 'nope'"),
        ([], {}, "no competition given"),
        (["diabetes", "--time-limit", "5x"], {}, "budget.time_limit (command line)"),
        (["diabetes", "--resume", "."], {}, "is not a run directory"),
        (["diabetes", "--slots", "64", "--cpus", "0"], {}, "slot"),
        (
            ["diabetes"],
            {"MLMASTER_LLM__CODER__PROVIDER": "openai"},
            "llm.coder.model is not set",
        ),
        (["diabetes", "--policy", "best"], {}, "search.policy (command line)"),
        (  # set in the environment, the path is named by its setting too, not only the flag
            ["diabetes"],
            {"MLMASTER_RUN__OUTPUT": "/"},
            "--output (run.output) / is a folder",
        ),
        (["diabetes", "--cpus", "0-1000000"], {}, "CPU id 1000000 does not exist"),
        (["diabetes", "--cpus", "0-8191"], {}, "names CPUs "),
        (["diabetes", "--time-limit", "1m"], {}, "final_reserve (120 s) must be below"),
        (["diabetes", "--time-limit", "1e400"], {}, "not a usable duration"),
        (
            ["diabetes"],
            {"MLMASTER_GRADER__URL": "http://127.0.0.1:9"},  # nothing listens on port 9
            "grader.url http://127.0.0.1:9 does not answer GET /health",
        ),
    ],
)
def test_bad_input(
    data_dir: Path, tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    runs = tmp_path / "runs"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    environment.update(env)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlmaster",
            "run",
            *args,
            "--data-dir",
            str(data_dir),
            "--runs-dir",
            str(runs),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr) < 1000  # one short line, however large the input
    assert not runs.exists()


def test_log_level_flag_quiets_the_console_not_the_record(data_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlmaster",
            "--log-level",
            "warning",
            "run",
            "diabetes",
            "--profile",
            "ci",
            "--data-dir",
            str(data_dir),
            "--runs-dir",
            str(runs),
            "--max-steps",
            "1",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "node_committed" not in done.stderr
    [run_dir] = list((runs / "diabetes").iterdir())
    assert "node_committed" in (run_dir / "log.jsonl").read_text()
