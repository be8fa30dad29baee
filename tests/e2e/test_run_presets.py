"""`mlmaster check` and a short `mlmaster run` against each provider mode of the scripted
server, with only preset, base_url, api_key and model set; the probe's one-line refusals; and
faults that must cost at most the step they hit."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from mlmaster.competition.layout import load_competition
from mlmaster.journal import NodeCommitted, read_events
from mlmaster.orchestrator.run import open_run, search
from mlmaster.settings import load_settings
from mlmaster.testing.providers import API_KEY, MODES
from mlmaster.testing.scripted_server import ReceivedRequest, Reply, ScriptedServer, ToolCall

WRITE_SAMPLE = (
    "import os, shutil\n"
    "os.makedirs('submission', exist_ok=True)\n"
    "shutil.copyfile('input/sample_submission.csv', 'submission/submission.csv')\n"
    "print('VALIDATION_METRIC: 0.5')\n"
)
CODE = f"Plan: copy the sample submission.\n\n```python\n{WRITE_SAMPLE}```\n"
VERDICT = {"is_bug": False, "summary": "It ran and printed its metric.", "metric": 0.5}


def provider(received: ReceivedRequest) -> Reply:
    """Answers as a model would: the probe, a review (tool or JSON), or a script."""
    text = json.dumps(received.body)
    if received.body.get("tools"):
        return Reply(tool_call=ToolCall(name="submit_review", arguments=json.dumps(VERDICT)))
    if "single word OK" in text:
        return Reply(text="OK")
    if "reviewing the run" in text:
        return Reply(text=f"```json\n{json.dumps(VERDICT)}\n```")
    messages = received.body.get("messages") or [{}]
    steered = "prompt" in received.body or messages[-1].get("prefix")
    # Steered, the answer continues the reasoning we opened and closes it.
    reasoning = "the sample submission is valid, so I copy it.\n</think>\n" if steered else ""
    return Reply(text=reasoning + CODE, reasoning_content="I should copy the sample.")


def role_env(server: ScriptedServer, preset: str, **changes: str) -> dict[str, str]:
    mode = MODES[preset]
    assert mode.models is not None
    # These runs test the providers, not selection: rank by the metric the script prints (the
    # scripted answer writes no holdout predictions).
    env: dict[str, str] = {"MLMASTER_SELECTION__METHOD": "script"}
    for role in ("CODER", "FEEDBACK"):
        values = {
            "PROVIDER": "openai",
            "PRESET": preset,
            "BASE_URL": server.base_url,
            "API_KEY": API_KEY,
            "MODEL": mode.models[0],
            "RETRIES": "1",
            **changes,
        }
        env.update({f"MLMASTER_LLM__{role}__{key}": value for key, value in values.items()})
    return env


async def mlmaster(cli: Any, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    done = await anyio.run_process(cli.argv(*args), env=cli.env(**env), check=False)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def run_args(suite_dir: Path, runs: Path, *extra: str) -> list[str]:
    return [
        "run",
        "digits",
        *("--profile", "ci", "--data-dir", str(suite_dir), "--runs-dir", str(runs)),
        *("--max-steps", "2", "--time-limit", "90s"),
        *extra,
    ]


@pytest.mark.parametrize("preset", sorted(MODES))
async def test_a_short_run_works_with_only_the_preset(
    preset: str, suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    async with ScriptedServer(provider, mode=preset) as server:
        env = role_env(server, preset)
        code, _, err = await mlmaster(cli, *run_args(suite_dir, tmp_path / "runs"), env=env)
    assert code == 0, err[-3000:]
    # The start-up probe passed for both roles before the run began.
    assert err.count(": ok, model") == 2, err[-3000:]
    assert "best 0.5" in err.splitlines()[-1]
    [run_dir] = list((tmp_path / "runs" / "digits").iterdir())
    events = read_events(run_dir / "journal.jsonl")
    nodes = [e.node for e in events if isinstance(e, NodeCommitted)]
    assert nodes and any(node.working for node in nodes)


@pytest.mark.parametrize("preset", ["azure", "deepseek", "vllm"])
async def test_check_reports_what_each_endpoint_supports(preset: str, cli: Any) -> None:
    async with ScriptedServer(provider, mode=preset) as server:
        code, out, err = await mlmaster(
            cli, "check", "--profile", "ci", env=role_env(server, preset)
        )
    assert code == 0, err[-2000:]
    coder, feedback = out.strip().splitlines()
    assert coder.startswith("llm.coder: ok") and feedback.startswith("llm.feedback: ok")
    style = "completions" if preset == "vllm" else "chat"
    assert f"api {style}" in coder


async def test_a_wrong_key_ends_the_run_at_the_probe_in_one_line(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    async with ScriptedServer(provider, mode="openai") as server:
        env = role_env(server, "openai", API_KEY="sk-wrong")
        code, _, err = await mlmaster(cli, *run_args(suite_dir, tmp_path / "runs"), env=env)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("mlmaster: llm.coder") and "MLMASTER_LLM__CODER__API_KEY" in line
    assert not (tmp_path / "runs").exists()  # no run directory was made


async def test_a_wrong_model_fails_the_check_in_one_line(cli: Any) -> None:
    async with ScriptedServer(provider, mode="openai") as server:
        env = role_env(server, "openai", MODEL="gpt-4o-typo")
        code, _, err = await mlmaster(cli, "check", "--profile", "ci", env=env)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("mlmaster: llm.coder") and "MLMASTER_LLM__CODER__MODEL" in line


async def test_the_mlebench_profile_without_a_server_names_the_variable(cli: Any) -> None:
    code, _, err = await mlmaster(
        cli, "check", "--profile", "mlebench", env={"MLMASTER_LLM__FEEDBACK__API_KEY": "sk-x"}
    )
    assert code == 2
    [line] = err.strip().splitlines()
    assert "MLMASTER_LLM__CODER__BASE_URL" in line


def scripted_settings(server: ScriptedServer, tmp_path: Path) -> Any:
    return load_settings(
        "ci",
        overrides={
            "run": {"runs_dir": str(tmp_path / "runs")},
            "budget": {"max_steps": 6, "time_limit": "3m"},
            "search": {"num_drafts": 3, "workers": 2},
            "execution": {"slots": 1},
            "selection": {"method": "script"},  # the scripted answer writes no holdout file
            "llm": {
                "coder": {
                    "provider": "openai",
                    "base_url": server.base_url,
                    "model": "scripted",
                    "api_key": "k",
                    "retries": 2,
                }
            },
        },
        environ={},
    )


async def test_content_filter_context_length_and_500_storm_each_cost_at_most_a_step(
    suite_dir: Path, tmp_path: Path
) -> None:
    calls = itertools.count()
    context_error = Reply(
        status=400,
        error_code="context_length_exceeded",
        error_message="This model's maximum context length is 2000 tokens. However, you "
        "requested 9000 tokens.",
    )

    def script(received: ReceivedRequest) -> Reply:
        number = next(calls)
        if number == 0:
            return Reply(status=400, error_code="content_filter", error_message="filtered")
        if number == 1:
            return context_error  # then the shrunk prompt passes
        if 3 <= number < 9:
            return Reply(status=500)  # a storm: two steps' retries run out
        return provider(received)

    async with ScriptedServer(script) as server:
        settings = scripted_settings(server, tmp_path)
        async with open_run(settings, load_competition(suite_dir, "digits")) as state:
            outcome = await search(state, handle_signals=False)
            nodes = [n for n in state.tree.nodes.values() if n.operator != "root"]

    assert outcome.exit_code == 0 and outcome.best_id is not None
    refused = [n for n in nodes if "refused" in (n.bug_reason or "")]
    assert len(refused) == 1 and "filtered" in (refused[0].bug_reason or "")
    assert sum(n.working for n in nodes) >= 3
