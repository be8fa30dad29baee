"""Runs driven by the scripted OpenAI-compatible server: the tree takes the expected shapes,
and a run whose scripts never end still stops on time."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import psutil

from mlmaster.competition.layout import load_competition
from mlmaster.journal import NodeCommitted, RunEnded, read_events
from mlmaster.orchestrator.run import open_run, search
from mlmaster.settings import load_settings
from mlmaster.testing.scripted_server import ReceivedRequest, Reply, ScriptedServer

WRITE_SAMPLE = (
    "import os, shutil\n"
    "os.makedirs('submission', exist_ok=True)\n"
    "shutil.copyfile('input/sample_submission.csv', 'submission/submission.csv')\n"
)


def answer(plan: str, code: str) -> Reply:
    return Reply(text=f"{plan}\n\n```python\n{code}```\n")


def settings_for(server: ScriptedServer, tmp_path: Path, **budget: Any) -> Any:
    return load_settings(
        "ci",
        overrides={
            "run": {"runs_dir": str(tmp_path / "runs")},
            "budget": budget,
            "search": {"num_drafts": 2, "num_improves": 2, "workers": 2},
            "execution": {"slots": 1},
            # The scripted answers write no holdout predictions: nodes rank by printed metrics.
            "selection": {"method": "script"},
            "llm": {
                "coder": {
                    "provider": "openai",
                    "base_url": server.base_url,
                    "model": "scripted",
                    "api_key": "test-key",
                    "retries": 1,
                }
            },
        },
        environ={},
    )


def kind_of(received: ReceivedRequest) -> str:
    text = json.dumps(received.body)
    if "Previous (buggy) implementation" in text:
        return "debug"
    if "Previous solution" in text:
        return "improve"
    return "draft"


async def test_buggy_drafts_get_debugged_then_improved(suite_dir: Path, tmp_path: Path) -> None:
    scores = itertools.count(start=1)

    def script(received: ReceivedRequest) -> Reply:
        kind = kind_of(received)
        if kind == "draft":
            return answer(
                "A draft that reads a column that is not there.", "raise KeyError('no')\n"
            )
        if kind == "debug":
            return answer(
                "Fixed: write the sample.", WRITE_SAMPLE + "print('VALIDATION_METRIC: 0.5')\n"
            )
        score = 0.5 + next(scores) / 100
        return answer("Improve.", WRITE_SAMPLE + f"print('VALIDATION_METRIC: {score}')\n")

    async with ScriptedServer(script) as server:
        settings = settings_for(server, tmp_path, max_steps=8, time_limit="3m")
        competition = load_competition(suite_dir, "digits")
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False)
            tree = state.tree

    nodes = {n.id: n for n in tree.nodes.values() if n.operator != "root"}
    assert len(nodes) == 8
    drafts = [n for n in nodes.values() if n.operator == "draft"]
    debugs = [n for n in nodes.values() if n.operator == "debug"]
    improves = [n for n in nodes.values() if n.operator == "improve"]
    assert len(drafts) == 2 and all(n.buggy for n in drafts)
    assert all("KeyError" in (n.bug_reason or "") for n in drafts)
    assert debugs and all(nodes[n.parent_id].buggy for n in debugs)  # type: ignore[index]
    assert all(n.working for n in debugs)
    assert improves and all(nodes[n.parent_id].working for n in improves)  # type: ignore[index]
    assert all(n.working for n in improves)
    # No buggy node is improved, no working node is debugged.
    for node in nodes.values():
        for child in node.children:
            expected = "debug" if node.buggy else "improve"
            assert nodes[child].operator == expected
    best = max((n for n in nodes.values() if n.working), key=lambda n: n.metric or 0)
    assert outcome.best_id == best.id and best.operator == "improve"
    assert outcome.exit_code == 0
    events = read_events(outcome.run_dir / "journal.jsonl")
    assert sum(isinstance(e, NodeCommitted) for e in events) == 8
    # Every LLM exchange is kept with its node.
    for node_id in nodes:
        lines = (outcome.run_dir / "nodes" / node_id / "exchanges.jsonl").read_text().splitlines()
        assert lines and json.loads(lines[0])["role"] == "coder"


async def test_scripts_that_never_end_do_not_hold_the_run_past_its_budget(
    suite_dir: Path, tmp_path: Path
) -> None:
    forever = (
        WRITE_SAMPLE
        + "import time, subprocess, sys\n"
        + (
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            "time.sleep(600)\n"
        )
    )

    async with ScriptedServer(lambda _: answer("Sleep.", forever)) as server:
        settings = settings_for(server, tmp_path, time_limit="25s", final_reserve="3s")
        competition = load_competition(suite_dir, "digits")
        started = time.monotonic()
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False)
        elapsed = time.monotonic() - started

    assert elapsed < 25 + 10, elapsed
    # No script finished, but the first one wrote a valid file before it hung: with no metric
    # anywhere, the run keeps that latest valid submission rather than ending empty-handed.
    assert outcome.best_metric is None
    assert outcome.best_id is not None and outcome.exit_code == 0
    assert "latest valid submission kept" in outcome.summary()
    events = read_events(outcome.run_dir / "journal.jsonl")
    assert isinstance(events[-1], RunEnded)
    assert _still_running("time.sleep(600)") == []


def _still_running(text: str) -> list[psutil.Process]:
    """Our descendants whose command line holds ``text`` and that still run (a zombie has
    ended: only its exit status waits to be collected)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() != psutil.STATUS_ZOMBIE and text in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:  # gone, or a zombie, between the listing and the look
            continue
    return found


async def test_an_endpoint_that_always_fails_ends_the_run_with_its_reason(
    suite_dir: Path, tmp_path: Path
) -> None:
    async with ScriptedServer(lambda _: Reply(status=503)) as server:
        settings = settings_for(server, tmp_path, time_limit="3m")
        settings.llm.coder.retries = 0
        competition = load_competition(suite_dir, "digits")
        started = time.monotonic()
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False)
        elapsed = time.monotonic() - started

    assert "steps failed in a row" in outcome.stop_reason
    assert "503" in outcome.stop_reason
    assert outcome.exit_code == 1 and outcome.nodes == 0
    assert elapsed < 60  # it gives up long before the budget
    assert len(server.requests) >= 20
    # Each step made its workspace while the coder was asked; with no answer none is left.
    assert list((outcome.run_dir / "nodes").iterdir()) == []


async def test_an_endpoint_that_refuses_the_key_ends_the_run_at_once(
    suite_dir: Path, tmp_path: Path
) -> None:
    async with ScriptedServer(lambda _: Reply(status=401, error_message="bad key")) as server:
        settings = settings_for(server, tmp_path, time_limit="3m")
        competition = load_competition(suite_dir, "digits")
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False)

    assert outcome.stop_reason.startswith("LLM endpoint refused")
    assert "401" in outcome.stop_reason
    assert len(server.requests) <= 2  # one per worker: no retry of a refusal


async def test_an_answer_without_code_is_a_buggy_node_with_no_workspace(
    suite_dir: Path, tmp_path: Path
) -> None:
    async with ScriptedServer(lambda _: Reply(text="I would rather not write code.")) as server:
        settings = settings_for(server, tmp_path, time_limit="3m", max_steps=3)
        competition = load_competition(suite_dir, "digits")
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False)

    committed = [
        e.node
        for e in read_events(outcome.run_dir / "journal.jsonl")
        if isinstance(e, NodeCommitted)
    ]
    assert len(committed) == 3
    for node in committed:
        assert node.buggy and node.bug_reason == "the answer held no Python script"
        folder = outcome.run_dir / "nodes" / node.id
        assert (folder / "plan.md").read_text().strip() == "I would rather not write code."
        assert not (folder / "workspace").exists()  # made during the call, removed after it
        assert not (folder / "solution.py").exists()


async def test_a_step_whose_review_fails_still_keeps_what_its_script_printed(
    suite_dir: Path, tmp_path: Path
) -> None:
    def script(received: ReceivedRequest) -> Reply:
        if received.body.get("tools"):  # the reviewer's call
            return Reply(status=401, error_message="bad key for the reviewer")
        return answer("Print.", WRITE_SAMPLE + "print('the script ran')\n")

    async with ScriptedServer(script) as server:
        settings = settings_for(server, tmp_path, time_limit="3m")
        settings.llm.feedback = settings.llm.coder.model_copy(update={"function_calling": "on"})
        competition = load_competition(suite_dir, "digits")
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False)

    assert outcome.stop_reason.startswith("LLM endpoint refused")
    assert outcome.nodes == 0
    events = read_events(outcome.run_dir / "journal.jsonl")
    assert not any(isinstance(e, NodeCommitted) for e in events)
    # The abandoned steps' folders still say what their scripts did.
    ran = [
        folder
        for folder in (outcome.run_dir / "nodes").iterdir()
        if (folder / "stdout.txt").is_file()
    ]
    assert ran, "no abandoned step kept its script's output"
    for folder in ran:
        assert (folder / "stdout.txt").read_text() == "the script ran\n"
        assert json.loads((folder / "execution.json").read_text())["exit_code"] == 0
