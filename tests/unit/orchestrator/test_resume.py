"""Resuming rebuilds the run from its journal, as far as the journal is sound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlmaster.bench.micro import placeholder_competition
from mlmaster.competition.layout import Competition
from mlmaster.errors import UserError
from mlmaster.journal import Journal, NodeCommitted, RunStarted, read_journal
from mlmaster.orchestrator.resume import rebuild
from mlmaster.search.node import Node
from mlmaster.settings import Settings

LEGACY = Path(__file__).parents[1] / "journal" / "data" / "journal-2026-11.jsonl"


@pytest.fixture
def competition(tmp_path: Path) -> Competition:
    return placeholder_competition(tmp_path)


def node(node_id: str, parent: str, step: int, **fields: object) -> Node:
    operator = "draft" if parent == "root" else "improve"
    return Node.model_validate(
        {"id": node_id, "parent_id": parent, "operator": operator, "step": step, **fields}
    )


def journal_of(path: Path, competition: Competition, *nodes: Node) -> Path:
    journal = Journal(path)
    journal.append_sync(RunStarted(competition=competition.spec.id))
    for each in nodes:
        journal.append_sync(NodeCommitted(node=each))
    journal.close()
    return path


def test_input_and_output_tokens_are_restored_apart(
    tmp_path: Path, competition: Competition
) -> None:
    path = journal_of(
        tmp_path / "journal.jsonl",
        competition,
        node("a", "root", 1, input_tokens=1000, output_tokens=200, cost=0.5),
        node("b", "a", 2, input_tokens=300, output_tokens=40, cost=0.25),
    )
    point = rebuild(read_journal(path), Settings(), competition)
    assert (point.tokens_in, point.tokens_out, point.cost) == (1300, 240, 0.75)
    assert point.steps == 2
    assert point.last_seq == 3


def test_a_node_whose_parent_never_committed_is_skipped_not_fatal(
    tmp_path: Path, competition: Competition
) -> None:
    path = journal_of(
        tmp_path / "journal.jsonl",
        competition,
        node("a", "root", 1, metric=0.5, valid_submission=True),
        node("orphan", "lost", 2),
        node("child-of-orphan", "orphan", 3),
        node("b", "a", 4),
    )
    point = rebuild(read_journal(path), Settings(), competition)
    assert sorted(n for n in point.tree.nodes if n != "root") == ["a", "b"]
    assert point.steps == 2


def test_damaged_lines_cost_only_themselves(tmp_path: Path, competition: Competition) -> None:
    path = journal_of(
        tmp_path / "journal.jsonl",
        competition,
        node("a", "root", 1),
        node("b", "a", 2),
    )
    lines = path.read_text().splitlines()
    damaged = [
        lines[0],
        lines[1],
        lines[1],  # the same node twice
        json.dumps({"seq": 9, "type": "node_committed", "node": {"id": "x"}}),  # no operator
        "{not json",
        lines[2],
    ]
    path.write_text("\n".join(damaged) + "\n")
    contents = read_journal(path)
    assert len(contents.skipped) == 3
    point = rebuild(contents, Settings(), competition)
    assert sorted(n for n in point.tree.nodes if n != "root") == ["a", "b"]


def test_a_journal_of_the_earlier_format_resumes(tmp_path: Path) -> None:
    competition = placeholder_competition(tmp_path)
    digits = competition.model_copy(
        update={"spec": competition.spec.model_copy(update={"id": "digits"})}
    )
    point = rebuild(read_journal(LEGACY), Settings(), digits)
    assert sorted(n for n in point.tree.nodes if n != "root") == ["a1", "b2"]
    assert point.elapsed == 45.0
    assert (point.tokens_in, point.tokens_out) == (2200, 0)  # one sum then: read as input


def test_a_journal_that_does_not_start_a_run_is_refused(
    tmp_path: Path, competition: Competition
) -> None:
    path = tmp_path / "journal.jsonl"
    Journal(path).close()
    with pytest.raises(UserError, match="does not start with run_started"):
        rebuild(read_journal(path), Settings(), competition)


def test_another_competitions_run_is_refused(tmp_path: Path, competition: Competition) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.append_sync(RunStarted(competition="other"))
    journal.close()
    with pytest.raises(UserError, match="this run solved 'other'"):
        rebuild(read_journal(path), Settings(), competition)
