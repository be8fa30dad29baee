"""Reading a run directory into the report's facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmaster.errors import UserError
from mlmaster.journal import NodeCommitted
from mlmaster.report import load_run
from mlmaster.search.node import Node


def test_a_finished_run(run) -> None:
    run.start()
    run.node("a", metric=0.70, finished=10)
    run.node("b", parent="a", metric=None, finished=20)
    run.node("c", parent="a", metric=0.80, finished=30)
    run.end(
        best="c",
        elapsed=42.5,
        roles={
            "coder": {"calls": 3, "input_tokens": 1000, "output_tokens": 500, "cost": 0.3},
            "feedback": {"calls": 2, "input_tokens": 200, "output_tokens": 50, "cost": 0.02},
        },
    )
    report = load_run(run.path)

    assert report.competition == "toy-competition"
    assert report.run_id == "run-1"
    assert report.status == "ended: time limit reached"
    assert report.lower_is_better is False
    assert report.elapsed == 42.5
    assert [(n.id, n.parent_id, n.status) for n in report.nodes] == [
        ("a", None, "valid"),
        ("b", "a", "buggy"),
        ("c", "a", "valid"),
    ]
    assert report.best_id == "c"
    assert report.tokens == 1750
    assert report.cost == pytest.approx(0.32)
    assert {r.role: r.calls for r in report.roles} == {"coder": 3, "feedback": 2}
    assert "run_ended" in report.roles_source


def test_best_over_time_records_only_improvements_in_the_metric_direction(lower_run) -> None:
    lower_run.start()
    lower_run.node("a", metric=0.5, finished=10)
    lower_run.node("b", metric=0.6, finished=20)  # worse: lower is better
    lower_run.node("c", metric=0.3, finished=30)
    lower_run.node("d", metric=None, finished=40)
    lower_run.node("e", metric=0.1, finished=50)
    report = load_run(lower_run.path)

    points = [(p.node_id, p.seconds, p.metric) for p in report.best_over_time]
    assert points == [("a", 10.0, 0.5), ("c", 30.0, 0.3), ("e", 50.0, 0.1)]
    assert report.best_id == "e"  # no run_ended: chosen by the metric


def test_higher_is_better_picks_the_largest(run) -> None:
    run.start()
    run.node("a", metric=0.9)
    run.node("b", metric=0.95)
    run.node("c", metric=0.1)
    assert load_run(run.path).best_id == "b"


def test_a_buggy_node_has_no_metric_even_if_one_was_recorded(run) -> None:
    run.start()
    run.node("a", metric=0.99, buggy=True)
    report = load_run(run.path)
    assert report.nodes[0].status == "buggy"
    assert report.nodes[0].metric is None
    assert report.best_id is None
    assert report.best_over_time == []


def test_unfinished_run_shows_steps_in_flight_and_sums_sessions(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    run.folder("b", plan_md="still thinking", solution_py="print('b')")
    report = load_run(run.path)

    assert report.status.startswith("unfinished")
    in_flight = [n for n in report.nodes if n.status == "in_flight"]
    assert [(n.id, n.parent_id, n.plan, n.code) for n in in_flight] == [
        ("b", None, "still thinking", "print('b')")
    ]


def test_uncommitted_folders_of_an_ended_run_are_abandoned(run) -> None:
    run.start()
    run.folder("x", plan_md="cut off")
    run.end()
    assert [n.status for n in load_run(run.path).nodes] == ["abandoned"]


def test_elapsed_without_run_ended_is_the_sum_of_session_spans(run) -> None:
    # Three events per session; Journal stamps wall time, so rewrite the times to known values.
    run.start()
    run.node("a", metric=0.5)
    run.start("run_resumed")
    run.node("b", metric=0.6)
    run.journal.close()
    lines = run.path.joinpath("journal.jsonl").read_text().splitlines()
    import json

    events = [json.loads(line) for line in lines]
    for event, when in zip(events, [100.0, 110.0, 500.0, 530.0], strict=True):
        event["time"] = when
    run.path.joinpath("journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))

    assert load_run(run.path).elapsed == pytest.approx(40.0)


def test_missing_text_is_read_from_the_node_folder(run) -> None:
    run.start()
    run.folder(
        "a",
        plan_md="plan from file",
        solution_py="code from file",
        stdout_txt="out line",
        stderr_txt="Traceback: boom",
    )
    run.node("a", metric=None, plan="", code="", execution={"exit_code": 1})
    node = load_run(run.path).nodes[0]
    assert node.plan == "plan from file"
    assert node.code == "code from file"
    assert node.output_tail == "out line\nTraceback: boom"
    assert node.exit_code == 1


def test_long_output_keeps_its_tail(run) -> None:
    run.start()
    run.node("a", metric=0.1, execution={"output_tail": "x" * 10_000 + "THE END"})
    tail = load_run(run.path).nodes[0].output_tail
    assert tail.endswith("THE END")
    assert len(tail) == 4_000


def test_role_totals_fall_back_to_recorded_exchanges(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    run.exchange("a", "coder", 100, 50, 0.1)
    run.exchange("a", "feedback", 10, 5, 0.01)
    run.exchange("b", "coder", 200, 60, 0.2)
    report = load_run(run.path)
    by_role = {r.role: (r.calls, r.input_tokens, r.output_tokens) for r in report.roles}
    assert by_role == {"coder": (2, 300, 110), "feedback": (1, 10, 5)}
    assert "exchanges" in report.roles_source


def test_a_node_committed_twice_keeps_its_first_record(run) -> None:
    run.start()
    run.node("a", metric=None)
    run.node("b", metric=0.4)
    run.node("a", metric=0.9)
    report = load_run(run.path)
    assert [(n.id, n.metric) for n in report.nodes] == [("a", None), ("b", 0.4)]


def test_torn_last_line_is_tolerated(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    run.journal.close()
    with run.path.joinpath("journal.jsonl").open("a") as file:
        file.write('{"seq": 9, "type": "node_comm')
    assert [n.id for n in load_run(run.path).nodes] == ["a"]


def test_empty_journal_still_loads(run) -> None:
    report = load_run(run.path)
    assert report.nodes == []
    assert report.competition == "toy-competition"  # from the folder name
    assert report.status.startswith("not started")


def test_not_a_run_directory_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"not a run directory \(no journal.jsonl"):
        load_run(tmp_path)


def test_start_time_comes_from_run_started(run) -> None:
    run.start()
    assert load_run(run.path).started_at == run.start_time


def test_a_journalled_root_is_not_a_node_and_drafts_hang_from_it(run) -> None:
    run.start()
    run.journal.append_sync(NodeCommitted(node=Node(id="root", operator="root")))
    run.node("a", parent="root", metric=0.5)
    report = load_run(run.path)
    assert [(n.id, n.parent_id) for n in report.nodes] == [("a", "root")]


def test_an_invalid_submission_is_buggy_even_with_a_metric(run) -> None:
    run.start()
    run.node("a", metric=0.5, buggy=True, valid_submission=False)
    node = load_run(run.path).nodes[0]
    assert (node.status, node.metric) == ("buggy", None)


def test_a_submission_no_grader_judged_has_unknown_validity_not_a_bug(run) -> None:
    # The bug decision makes an invalid submission buggy; a node left not buggy, with a metric
    # but no valid submission, is one whose grader never answered.
    run.start()
    run.node("a", metric=0.5, buggy=False, valid_submission=False)
    run.node("b", metric=0.4)
    report = load_run(run.path)
    unknown = report.nodes[0]
    assert (unknown.status, unknown.metric, unknown.bug_reason) == ("unknown_validity", 0.5, None)
    assert [n.id for n in report.committed] == ["a", "b"]
    assert report.best_id == "b"  # only a checked submission can be the best
    assert [p.node_id for p in report.best_over_time] == ["b"]


def test_exception_and_timeout_are_summarised(run) -> None:
    run.start()
    run.node("a", execution={"exception_type": "KeyError", "exception_message": "'y'"})
    run.node("b", execution={"timed_out": True, "exit_code": None})
    assert [n.exception for n in load_run(run.path).nodes] == ["KeyError: 'y'", "timed out"]
