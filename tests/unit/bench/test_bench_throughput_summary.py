"""The throughput scenario's arithmetic: the steady window, ratios and goals."""

from __future__ import annotations

import json
from typing import Any

from mlmaster.bench.throughput import (
    Sample,
    SleepingCoderScript,
    ThroughputConfig,
    solution_script,
    steady_window,
    summarise,
)
from mlmaster.llm.extract import extract_plan_and_code, parse_metric_line
from mlmaster.testing.scripted_server import ReceivedRequest


def test_the_window_runs_from_the_first_commit_to_the_first_stop() -> None:
    samples = [
        Sample(at=0.0, busy_seconds=0.0, done=0, stopping=False),
        Sample(at=1.0, busy_seconds=0.5, done=1, stopping=False),
        Sample(at=2.0, busy_seconds=2.5, done=3, stopping=False),
        Sample(at=3.0, busy_seconds=4.5, done=5, stopping=True),
        Sample(at=4.0, busy_seconds=5.0, done=6, stopping=True),
    ]
    assert steady_window(samples) == (samples[1], samples[3])


def test_without_a_stop_the_window_ends_at_the_last_sample() -> None:
    samples = [
        Sample(at=0.0, busy_seconds=0.0, done=1, stopping=False),
        Sample(at=5.0, busy_seconds=9.0, done=9, stopping=False),
    ]
    assert steady_window(samples) == (samples[0], samples[1])


def test_the_window_may_start_after_a_warm_up_of_at_most_half_of_it() -> None:
    samples = [
        Sample(at=float(t), busy_seconds=float(t), done=t, stopping=t >= 9) for t in range(11)
    ]
    assert steady_window(samples, warmup=3.0) == (samples[4], samples[9])
    assert steady_window(samples, warmup=100.0) == (samples[5], samples[9])


def test_no_commit_means_no_window() -> None:
    assert steady_window([Sample(at=0.0, busy_seconds=0.0, done=0, stopping=True)]) is None


def _row(
    scheme: str,
    per_min: float | None,
    utilisation: float | None,
    overhead: float | None,
    latency: float = 1.0,
    exec_seconds: float = 2.0,
) -> dict[str, Any]:
    return {
        "latency": latency, "exec_seconds": exec_seconds, "scheme": scheme, "workers": "4/4",
        "nodes": 10, "window_s": 10.0, "nodes_per_min": per_min, "utilisation": utilisation,
        "overhead_ms_p50": overhead, "overhead_ms_p95": overhead, "validate_ms_p50": None,
        "journal_ms_p50": None, "workspace_ms_p50": None, "slot_wait_ms_p50": None,
        "exec_extra_ms_p50": 100.0,
    }  # fmt: skip


def test_summary_reports_ratio_to_ideal_and_judges_the_goals() -> None:
    config = ThroughputConfig(slots=2, latency=1.0, exec_seconds=2.0)
    rows: list[dict[str, Any]] = [
        _row("serial (original)", 30.0, 0.5, None),
        _row("workers<=4", 40.0, 0.8, 3.0),
        _row("default", 57.0, 0.96, 4.0),
        _row("default", 114.0, 0.97, 4.0, latency=2.0, exec_seconds=1.0),
    ]
    result = summarise(config, rows)
    # ideal: K / E = 2 / 2 s = 1 node per second = 60 per minute (120 where E = 1 s)
    assert [r["ratio_to_ideal"] for r in rows] == [0.5, 40 / 60, 0.95, 0.95]
    [table] = result.tables
    assert len(table.rows) == 4 and table.rows[2][:3] == [1.0, 2.0, "default"]
    assert any("E/(2L+E) = 50%" in note for note in table.notes)
    utilisation, overhead = result.goals
    assert utilisation.met is True and utilisation.measured == "96.0%"  # the worst default
    assert overhead.met is True and overhead.measured == "3.0 ms"  # the workers<=2K row


def test_goals_fail_when_the_slots_idle_or_steps_cost_too_much() -> None:
    config = ThroughputConfig()
    rows = [
        _row("workers<=4", 30.0, 0.9, 40.0),
        _row("default", 50.0, 0.99, 60.0),
        _row("default", 50.0, 0.9, 60.0, latency=2.0),
    ]
    utilisation, overhead = summarise(config, rows).goals
    assert utilisation.met is False and utilisation.measured == "90.0%"
    assert overhead.met is False


def test_unmeasured_goals_are_marked_so() -> None:
    rows = [_row("default", None, None, None), _row("default", 50.0, 0.99, 3.0, latency=2.0)]
    utilisation, overhead = summarise(ThroughputConfig(), rows).goals
    assert utilisation.met is None and overhead.met is None


def test_the_scripted_server_answers_review_calls_with_a_clean_verdict() -> None:
    script = SleepingCoderScript(exec_seconds=0.25)
    body = {"tools": [{"type": "function", "function": {"name": "submit_review"}}]}
    request = ReceivedRequest(path="/v1/chat/completions", body=body, headers={}, received_at=0)
    reply = script(request)
    assert reply.tool_call is not None and reply.tool_call.name == "submit_review"
    assert json.loads(reply.tool_call.arguments)["is_bug"] is False


def test_each_case_has_a_script_time_limit_above_its_script() -> None:
    config = ThroughputConfig(latency=1.0, exec_seconds=1.0)
    case = config.at(0.5, 3.0)
    assert (case.latency, case.exec_seconds, case.other_ratios) == (0.5, 3.0, ())
    assert case.exec_timeout > case.exec_seconds


def test_the_scripted_coder_answers_a_plan_and_a_script_with_a_metric() -> None:
    script = SleepingCoderScript(exec_seconds=0.25)
    request = ReceivedRequest(path="/v1/chat/completions", body={}, headers={}, received_at=0.0)
    first, second = script(request), script(request)
    assert first.text is not None and second.text is not None
    plan, code = extract_plan_and_code(first.text)
    assert plan and code is not None
    assert "time.sleep(0.25)" in code
    assert "./submission/submission.csv" in code
    assert first.text != second.text  # metrics change, so the tree has something to improve


def test_the_solution_script_prints_its_metric_line(tmp_path: Any) -> None:
    import subprocess
    import sys

    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "sample_submission.csv").write_text("id,y\n1,0\n")
    path = tmp_path / "solution.py"
    path.write_text(solution_script(0.0, 0.8125))
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert parse_metric_line(done.stdout) == 0.8125
    assert (tmp_path / "submission" / "submission.csv").read_text() == "id,y\n1,0\n"
