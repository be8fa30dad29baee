"""The offline reviewer: judges a finished script from facts alone, with no model.

A node is buggy when its script failed (non-zero exit, killed, timed out), printed no metric line,
or wrote a submission the validation server rejected. The offline baseline (the sample
submission filled with priors, for competitions offline mode cannot model) is not buggy but has
no metric.
"""

from __future__ import annotations

import time

from mlmaster.execution.result import ExecutionResult
from mlmaster.llm.requests import Exchange, Review, ReviewRequest
from mlmaster.offline.baseline import BASELINE_MARKER
from mlmaster.settings.model import EndpointSettings

OFFLINE_MODEL = "offline-rules"


def bug_reason(request: ReviewRequest) -> str | None:
    """Why the node is buggy, or None when it is not."""
    execution: ExecutionResult = request.execution
    if execution.timed_out or execution.killed_reason == "timeout":
        return f"the script timed out after {execution.runtime:.0f}s"
    if execution.killed_reason is not None:
        return f"the script was killed ({execution.killed_reason})"
    if execution.exit_code != 0:
        if execution.exception:
            e = execution.exception
            where = f" at line {e.line}" if e.line else ""
            return f"{e.type}{where}: {e.message}"
        return f"the script exited with code {execution.exit_code}"
    if request.submission_valid is False:
        return f"the submission is invalid: {request.submission_message or 'rejected'}"
    if request.submission_valid is None and execution.submission_path is None:
        return "the script wrote no submission/submission.csv"
    if request.metric_from_output is None and BASELINE_MARKER not in request.code:
        return "the script printed no VALIDATION_METRIC line"
    return None


def summary_text(request: ReviewRequest, reason: str | None) -> str:
    design = request.plan.split(". Why:")[0].strip()
    if reason:
        return f"{design}. Buggy: {reason}."
    if request.metric_from_output is None:
        return f"{design}. Wrote a baseline submission; no validation metric."
    return (
        f"{design}. Ran in {request.execution.runtime:.1f}s; validation "
        f"{request.competition.metric} = {request.metric_from_output:.6g}."
    )


class OfflineReviewer:
    """A :class:`~mlmaster.llm.requests.Reviewer` that reads the execution result, not prose."""

    def __init__(self, endpoint: EndpointSettings | None = None) -> None:
        self.endpoint = endpoint or EndpointSettings()

    async def review(self, request: ReviewRequest) -> Review:
        started_at = time.time()
        reason = bug_reason(request)
        summary = summary_text(request, reason)
        exchange = Exchange(
            role="feedback",
            node_id=request.node_id,
            api_style="offline",
            model=OFFLINE_MODEL,
            request={
                "exit_code": request.execution.exit_code,
                "timed_out": request.execution.timed_out,
                "metric_from_output": request.metric_from_output,
                "submission_valid": request.submission_valid,
            },
            response_text=summary,
            started_at=started_at,
        )
        return Review(
            buggy=reason is not None,
            summary=summary,
            metric=None if reason else request.metric_from_output,
            bug_reason=reason,
            exchange=exchange,
        )
