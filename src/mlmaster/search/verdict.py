"""The bug decision: from what a step saw, whether its node is buggy, why, and its metric.

A pure function of the evidence, so every rule is tested on its own. The rules, in order:

* the script was killed (timeout, memory, cancelled), else it exited with a non-zero code
  (with the exception it printed, when there is one);
* it wrote no submission, else the validator called the submission invalid (a validator that
  could not be reached gives no verdict: ``submission_valid=None`` is not a bug);
* no metric: the ``VALIDATION_METRIC:`` line wins, the reviewer's reading of the output is the
  fallback;
* the reviewer called it buggy (its reason is added to the others);
* when nodes are ranked by the holdout (one exists and ``selection.method`` is holdout or
  blend): no valid holdout predictions (with the reason the scorer gave).

Any of these makes the node buggy, and a buggy node keeps no metric (it must not compete with
working nodes for the best). A working node's ``metric`` (what the tree ranks and the final
choice uses) is its holdout score when ranking by the holdout, else the script's own score;
both scores are kept beside it as ``script_metric`` and ``holdout_metric``.
"""

from __future__ import annotations

from pydantic import BaseModel

from mlmaster.execution.result import ExecutionResult


class Evidence(BaseModel):
    """Everything a finished step learnt about its script, before the decision."""

    execution: ExecutionResult
    metric_line: float | None = None  # parsed from the script's own metric line
    submission_valid: bool | None = None  # the validator's verdict; None: none was given
    submission_message: str = ""
    review_buggy: bool = False
    review_bug_reason: str | None = None
    review_metric: float | None = None  # the reviewer's reading of the output
    holdout_score: float | None = None  # the harness's score of its holdout predictions
    holdout_problem: str | None = None  # why there is no holdout score, when one was expected
    rank_by_holdout: bool = False  # a holdout exists and the tree ranks nodes by it


class Verdict(BaseModel):
    buggy: bool
    bug_reason: str | None = None  # every reason found, joined with "; "
    metric: float | None = None  # what the tree ranks; None whenever buggy
    valid_submission: bool = False
    script_metric: float | None = None  # the script's own score (None whenever buggy)
    holdout_metric: float | None = None  # the harness's holdout score (None whenever buggy)


def judge(evidence: Evidence) -> Verdict:
    """Decide the node's facts from the evidence (see the module's rules)."""
    result = evidence.execution
    metric = evidence.metric_line if evidence.metric_line is not None else evidence.review_metric
    reasons: list[str] = []
    if result.killed_reason:
        reasons.append(f"script killed ({result.killed_reason})")
    elif result.exit_code != 0:
        failure = f"exit code {result.exit_code}"
        if result.exception:
            failure += f": {result.exception.type}: {result.exception.message}"
        reasons.append(failure)
    if result.submission_path is None:
        # The executor says why a file the script left was refused (a link, too big ...).
        reasons.append(result.submission_problem or "no submission.csv written")
    elif evidence.submission_valid is False:
        reasons.append(f"invalid submission: {evidence.submission_message}")
    if metric is None:
        reasons.append("no validation metric printed")
    if evidence.review_buggy and evidence.review_bug_reason:
        reasons.append(evidence.review_bug_reason)
    if evidence.rank_by_holdout and evidence.holdout_score is None:
        why = evidence.holdout_problem or "none written"
        reasons.append(f"no valid holdout predictions ({why})")
    buggy = bool(reasons) or evidence.review_buggy
    ranked = evidence.holdout_score if evidence.rank_by_holdout else metric
    return Verdict(
        buggy=buggy,
        bug_reason="; ".join(reasons) or ("the reviewer found a bug" if buggy else None),
        metric=None if buggy else ranked,
        valid_submission=evidence.submission_valid is True,
        script_metric=None if buggy else metric,
        holdout_metric=None if buggy else evidence.holdout_score,
    )
