"""`mlmaster settings` and `--version` as a user runs them: a real process."""

import json
import os
import subprocess
import sys

import pytest

from mlmaster import __version__


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "mlmaster", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"mlmaster {__version__}"


def test_environment_duration_shows_in_seconds() -> None:
    done = run("settings", "--json", MLMASTER_BUDGET__TIME_LIMIT="90m")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["budget"]["time_limit"] == 5400


def test_unknown_profile_exits_2_with_one_line() -> None:
    done = run("settings", "--profile", "nope")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown profile 'nope'" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("style", ["--json", None])
def test_api_keys_are_masked(style: str | None) -> None:
    args = ["settings", style] if style else ["settings"]
    done = run(*args, MLMASTER_LLM__CODER__API_KEY="sk-very-secret-123")
    assert done.returncode == 0, done.stderr
    assert "sk-very-secret-123" not in done.stdout
    assert "**********" in done.stdout


def test_text_view_is_grouped() -> None:
    done = run("settings", "--profile", "ci")
    assert done.returncode == 0, done.stderr
    assert "[budget]" in done.stdout
    assert "time_limit = 90.0" in done.stdout
    assert "[llm.coder]" in done.stdout


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_view_is_strict_json_and_non_finite_durations_are_refused() -> None:
    done = run("settings", "--json")
    assert done.returncode == 0
    assert _strict_json(done.stdout)
    refused = run("settings", "--json", MLMASTER_BUDGET__TIME_LIMIT="nan")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "MLMASTER_BUDGET__TIME_LIMIT" in refused.stderr
