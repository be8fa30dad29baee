"""The offline reviewer's verdicts, from execution facts alone."""

from __future__ import annotations

from pathlib import Path

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.execution.result import CapturedOutput, ExecutionResult, ScriptException
from mlmaster.llm.requests import ReviewRequest
from mlmaster.offline import OfflineReviewer
from mlmaster.offline.baseline import BASELINE_MARKER

SPEC = CompetitionSpec(
    id="c",
    name="c",
    metric="rmse",
    lower_is_better=True,
    id_column="id",
    target_columns=["y"],
    task_type="regression",
)
PLAN = "Draft [hist_gb]: histogram gradient boosting; 5-fold CV. Why: it suits the data."


def request(
    execution: ExecutionResult,
    metric: float | None = 1.25,
    valid: bool | None = True,
    code: str = "print('hi')\n",
    message: str = "",
) -> ReviewRequest:
    return ReviewRequest(
        node_id="n7",
        competition=SPEC,
        description="",
        plan=PLAN,
        code=code,
        execution=execution,
        metric_from_output=metric,
        submission_valid=valid,
        submission_message=message,
    )


def ran(exit_code: int | None = 0, **extra: object) -> ExecutionResult:
    return ExecutionResult(
        exit_code=exit_code,
        runtime=3.0,
        stdout=CapturedOutput(head="VALIDATION_METRIC: 1.25\n"),
        submission_path=Path("submission/submission.csv"),
        **extra,
    )


async def test_working_script_keeps_its_metric() -> None:
    review = await OfflineReviewer().review(request(ran()))
    assert not review.buggy
    assert review.metric == 1.25
    assert "histogram gradient boosting" in review.summary and "1.25" in review.summary
    assert review.exchange is not None
    assert review.exchange.api_style == "offline" and review.exchange.role == "feedback"
    assert review.exchange.node_id == "n7"


async def test_failures_are_buggy_with_their_reason() -> None:
    crash = ran(1, exception=ScriptException(type="KeyError", message="'x'", line=12))
    cases = [
        (request(crash), "KeyError at line 12: 'x'"),
        (request(ran(None, timed_out=True, killed_reason="timeout")), "timed out"),
        (request(ran(None, killed_reason="memory")), "killed (memory)"),
        (request(ran(), metric=None), "no VALIDATION_METRIC"),
        (request(ran(), valid=False, message="wrong ids"), "invalid: wrong ids"),
        (request(ran(3)), "exited with code 3"),
    ]
    for req, reason in cases:
        review = await OfflineReviewer().review(req)
        assert review.buggy
        assert review.metric is None
        assert review.bug_reason is not None and reason in review.bug_reason
        assert reason in review.summary


async def test_missing_submission_is_buggy() -> None:
    execution = ExecutionResult(exit_code=0, runtime=1.0)
    review = await OfflineReviewer().review(request(execution, valid=None))
    assert review.buggy and "no submission" in (review.bug_reason or "")


async def test_offline_baseline_works_without_a_metric() -> None:
    code = f"{BASELINE_MARKER}\nprint('copy')\n"
    review = await OfflineReviewer().review(request(ran(), metric=None, code=code))
    assert not review.buggy
    assert review.metric is None
