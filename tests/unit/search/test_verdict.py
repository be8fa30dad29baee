"""The bug decision, one rule at a time and in combination."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlmaster.execution.result import ExecutionResult, ScriptException
from mlmaster.search.verdict import Evidence, Verdict, judge

SUBMISSION = Path("submission/submission.csv")


def run(**changes: Any) -> ExecutionResult:
    """A clean run: exit 0, a submission written."""
    fields: dict[str, Any] = {"exit_code": 0, "runtime": 1.0, "submission_path": SUBMISSION}
    return ExecutionResult(**(fields | changes))


def evidence(**changes: Any) -> Evidence:
    """A working step: clean run, valid submission, a metric line, a content reviewer."""
    fields: dict[str, Any] = {
        "execution": run(),
        "metric_line": 0.8,
        "submission_valid": True,
        "review_buggy": False,
    }
    return Evidence(**(fields | changes))


def test_a_clean_step_works_with_its_metric_line() -> None:
    assert judge(evidence()) == Verdict(
        buggy=False, bug_reason=None, metric=0.8, valid_submission=True, script_metric=0.8
    )


@pytest.mark.parametrize("reason", ["timeout", "memory", "cancelled"])
def test_a_killed_script_is_buggy_whatever_its_exit_code(reason: str) -> None:
    verdict = judge(evidence(execution=run(killed_reason=reason, exit_code=None)))
    assert verdict.buggy and verdict.metric is None
    assert verdict.bug_reason == f"script killed ({reason})"


def test_a_killed_script_names_the_kill_not_the_exit_code() -> None:
    verdict = judge(evidence(execution=run(killed_reason="timeout", exit_code=-9)))
    assert verdict.bug_reason == "script killed (timeout)"


def test_a_non_zero_exit_code_is_buggy() -> None:
    verdict = judge(evidence(execution=run(exit_code=3)))
    assert verdict.buggy and verdict.metric is None
    assert verdict.bug_reason == "exit code 3"


def test_the_exception_printed_joins_the_exit_code() -> None:
    exception = ScriptException(type="KeyError", message="'target'")
    verdict = judge(evidence(execution=run(exit_code=1, exception=exception)))
    assert verdict.bug_reason == "exit code 1: KeyError: 'target'"


def test_an_exception_after_a_zero_exit_is_not_a_bug_by_itself() -> None:
    # A traceback printed and caught: the exit code is what says the script failed.
    exception = ScriptException(type="Warning", message="caught")
    assert not judge(evidence(execution=run(exception=exception))).buggy


def test_no_submission_is_buggy_even_with_a_metric() -> None:
    verdict = judge(evidence(execution=run(submission_path=None), submission_valid=None))
    assert verdict.buggy and verdict.metric is None and not verdict.valid_submission
    assert verdict.bug_reason == "no submission.csv written"


def test_an_invalid_submission_is_buggy_with_the_validators_message() -> None:
    verdict = judge(evidence(submission_valid=False, submission_message="12 rows, expected 10"))
    assert verdict.buggy and verdict.metric is None and not verdict.valid_submission
    assert verdict.bug_reason == "invalid submission: 12 rows, expected 10"


def test_no_verdict_from_the_validator_is_not_a_bug() -> None:
    # The validator was unreachable: the node is not blamed, but its submission is not valid.
    verdict = judge(evidence(submission_valid=None, submission_message="server down"))
    assert not verdict.buggy and verdict.metric == 0.8
    assert not verdict.valid_submission


def test_no_metric_anywhere_is_buggy() -> None:
    verdict = judge(evidence(metric_line=None, review_metric=None))
    assert verdict.buggy and verdict.metric is None
    assert verdict.bug_reason == "no validation metric printed"


def test_the_reviewers_metric_stands_in_for_a_missing_line() -> None:
    assert judge(evidence(metric_line=None, review_metric=0.7)).metric == 0.7


def test_the_metric_line_wins_over_the_reviewers_metric() -> None:
    assert judge(evidence(metric_line=0.8, review_metric=0.1)).metric == 0.8


def test_a_metric_line_of_zero_is_a_metric() -> None:
    assert judge(evidence(metric_line=0.0, review_metric=0.5)).metric == 0.0


def test_the_reviewers_bug_makes_the_node_buggy_with_its_reason() -> None:
    verdict = judge(evidence(review_buggy=True, review_bug_reason="trains on the test set"))
    assert verdict.buggy and verdict.metric is None
    assert verdict.bug_reason == "trains on the test set"
    assert verdict.valid_submission  # the submission itself passed validation


def test_the_reviewers_bug_without_a_reason_still_gets_one() -> None:
    verdict = judge(evidence(review_buggy=True, review_bug_reason=None))
    assert verdict.buggy and verdict.bug_reason == "the reviewer found a bug"


def test_a_reviewers_reason_without_its_bug_flag_is_ignored() -> None:
    verdict = judge(evidence(review_buggy=False, review_bug_reason="looks odd"))
    assert not verdict.buggy and verdict.bug_reason is None


def test_every_reason_is_given_in_order() -> None:
    verdict = judge(
        Evidence(
            execution=run(exit_code=2, submission_path=None),
            metric_line=None,
            submission_valid=None,
            review_buggy=True,
            review_bug_reason="reads the wrong file",
        )
    )
    assert verdict.bug_reason == (
        "exit code 2; no submission.csv written; no validation metric printed; reads the wrong file"
    )


def test_an_invalid_submission_and_a_missing_metric_are_both_named() -> None:
    verdict = judge(evidence(submission_valid=False, submission_message="bad", metric_line=None))
    assert verdict.bug_reason == "invalid submission: bad; no validation metric printed"


def test_ranking_by_the_holdout_makes_its_score_the_metric_and_keeps_both() -> None:
    verdict = judge(evidence(rank_by_holdout=True, holdout_score=0.7))
    assert not verdict.buggy
    assert (verdict.metric, verdict.script_metric, verdict.holdout_metric) == (0.7, 0.8, 0.7)


def test_ranking_by_the_holdout_without_its_predictions_is_a_bug_that_says_why() -> None:
    verdict = judge(
        evidence(rank_by_holdout=True, holdout_problem="no submission/holdout.csv written")
    )
    assert verdict.buggy and verdict.metric is None and verdict.holdout_metric is None
    assert verdict.bug_reason == (
        "no valid holdout predictions (no submission/holdout.csv written)"
    )


def test_a_holdout_problem_adds_to_the_other_reasons() -> None:
    verdict = judge(
        evidence(metric_line=None, rank_by_holdout=True, holdout_problem="1 id(s) missing")
    )
    assert verdict.bug_reason == (
        "no validation metric printed; no valid holdout predictions (1 id(s) missing)"
    )


def test_ranking_by_the_script_records_the_holdout_score_but_does_not_need_it() -> None:
    scored = judge(evidence(holdout_score=0.7))
    assert (scored.metric, scored.script_metric, scored.holdout_metric) == (0.8, 0.8, 0.7)
    missing = judge(evidence(holdout_problem="no submission/holdout.csv written"))
    assert not missing.buggy and missing.metric == 0.8 and missing.holdout_metric is None


def test_a_buggy_node_keeps_neither_score() -> None:
    verdict = judge(evidence(submission_valid=False, rank_by_holdout=True, holdout_score=0.7))
    assert verdict.buggy
    assert (verdict.metric, verdict.script_metric, verdict.holdout_metric) == (None, None, None)
