"""The run directory's layout: new folders never reused, node files named in one place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlmaster.errors import UserError
from mlmaster.execution.result import ExecutionResult
from mlmaster.journal import RunDir
from mlmaster.llm.requests import Review


def test_rundir_never_reuses_a_directory(tmp_path: Path) -> None:
    first = RunDir.create(tmp_path, "comp", run_id="r")
    second = RunDir.create(tmp_path, "comp", run_id="r")
    assert first.path != second.path
    assert second.path.name == "r-2"
    assert second.nodes.is_dir()


def test_a_folder_without_a_journal_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"not a run directory \(no journal.jsonl"):
        RunDir.existing(tmp_path)


def test_best_is_replaced_whole(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, "comp")
    sub = tmp_path / "s.csv"
    sub.write_text("id,y\n1,2\n")
    run.write_best({"id": "a"}, "print(1)", sub)
    assert run.best_submission.read_text() == "id,y\n1,2\n"
    run.write_best({"id": "b"}, "print(2)", None)
    assert json.loads((run.best / "node.json").read_text())["id"] == "b"
    assert not run.best_submission.exists()
    leftovers = [p.name for p in run.path.iterdir() if p.name.startswith("best.")]
    assert leftovers == []


def test_node_files_are_written_and_read_back(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, "comp")
    folder = run.node("n1").create()
    folder.write_plan("the plan")
    folder.write_solution("print(1)")
    result = ExecutionResult.model_validate(
        {"exit_code": 0, "runtime": 1.0, "stdout": {"head": "out"}, "stderr": {"head": "err"}}
    )
    folder.write_execution(result)
    folder.write_review(Review(buggy=False, summary="fine", metric=0.5))

    assert folder.read_text(folder.plan) == "the plan"
    assert folder.read_text(folder.solution) == "print(1)"
    assert (folder.read_text(folder.stdout), folder.read_text(folder.stderr)) == ("out", "err")
    assert folder.read_execution() == result
    assert json.loads(folder.review.read_text())["summary"] == "fine"
    assert [n.id for n in run.node_dirs()] == ["n1"]
    assert run.node("never").read_execution() is None
    assert run.node("never").read_text(run.node("never").plan) == ""


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "../x", "x\0y"])
def test_a_node_id_that_is_not_a_plain_name_has_no_folder(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a node id"):
        RunDir(tmp_path).node(bad)


def test_a_submission_that_is_a_link_is_never_kept(tmp_path: Path) -> None:
    folder = RunDir(tmp_path).node("n1").create()
    written = folder.workspace / "submission" / "submission.csv"
    written.parent.mkdir(parents=True)
    secret = tmp_path / "answers.csv"
    secret.write_text("id,y\n1,42\n")
    written.symlink_to(secret)
    assert folder.find_submission() is None
    written.unlink()
    written.write_text("id,y\n1,0\n")
    # Only the executor's copy counts, never what the script left in its workspace.
    assert folder.find_submission() is None
    folder.submission.write_text("id,y\n1,1\n")
    assert folder.find_submission() == folder.submission
