"""The journal: typed events in and out, every sound line kept, every bad line named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlmaster.journal import (
    Journal,
    JournalError,
    JournalEvent,
    NodeCommitted,
    RunEnded,
    RunResumed,
    RunStarted,
    cut_torn_tail,
    read_events,
    read_journal,
    time_spent,
)
from mlmaster.llm.accounting import RoleTotals, RunTotals
from mlmaster.search.node import Node

# A journal written by the version before typed events (same line format), kept as a file.
LEGACY = Path(__file__).parent / "data" / "journal-2026-11.jsonl"


def node(node_id: str, parent: str = "root", step: int = 1, **fields: object) -> Node:
    operator = "draft" if parent == "root" else "improve"
    return Node.model_validate(
        {"id": node_id, "parent_id": parent, "operator": operator, "step": step, **fields}
    )


def write_lines(path: Path, *lines: object) -> None:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


async def test_typed_events_round_trip_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    await journal.append(RunStarted(competition="c", lower_is_better=True))
    first = node("n1", input_tokens=10, output_tokens=5, metric=0.5)
    stamped = journal.append_sync(NodeCommitted(node=first))
    journal.append_sync(RunEnded(reason="done", best="n1", totals=RunTotals()))
    journal.close()

    events = read_events(tmp_path / "journal.jsonl")
    assert [type(e) for e in events] == [RunStarted, NodeCommitted, RunEnded]
    assert [e.seq for e in events] == [1, 2, 3]
    assert stamped.seq == 2 and stamped.time > 0
    assert isinstance(events[1], NodeCommitted)
    assert events[1].node == first
    assert (events[1].node.input_tokens, events[1].node.output_tokens) == (10, 5)
    assert [e.line for e in events] == [1, 2, 3]


def test_a_journal_in_the_earlier_format_reads_whole() -> None:
    contents = read_journal(LEGACY)
    events = contents.events
    assert contents.skipped == []
    assert [type(e) for e in events] == [
        RunStarted,
        NodeCommitted,
        RunResumed,
        NodeCommitted,
        RunEnded,
    ]
    started, first, _, second, ended = events
    assert isinstance(started, RunStarted) and started.competition == "digits"
    assert started.lower_is_better is False
    assert isinstance(first, NodeCommitted) and first.node.metric == 0.9
    assert isinstance(second, NodeCommitted) and second.node.parent_id == "a1"
    # The earlier format kept one token sum per node: it is read as input tokens.
    assert (first.node.input_tokens, first.node.output_tokens) == (1500, 0)
    assert isinstance(ended, RunEnded)
    assert ended.totals.roles["coder"] == RoleTotals(
        calls=2, input_tokens=1800, output_tokens=400, cost=0.03
    )
    assert time_spent(events) == 45.0  # the budget's own figure, from run_ended
    assert time_spent(events[:-1]) == pytest.approx(10.0 + 20.0)  # two sessions' spans
    assert contents.last_seq == 5


def test_a_half_written_last_line_is_dropped_and_named(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(
        json.dumps({"type": "run_started", "seq": 1, "competition": "c"})
        + "\n"
        + '{"type": "node_committed", "se'
    )
    contents = read_journal(path)
    assert [e.seq for e in contents.events] == [1]
    assert len(contents.skipped) == 1 and "line 2: half written" in contents.skipped[0]


def test_an_unterminated_last_line_is_dropped_even_when_it_parses(tmp_path: Path) -> None:
    # The newline is written with the event: without it, the event was never acknowledged,
    # and the next append would cut it off; reading must agree with that.
    path = tmp_path / "journal.jsonl"
    start = json.dumps({"type": "run_started", "seq": 1, "competition": "c"})
    path.write_text(start + "\n" + start.replace('"seq": 1', '"seq": 2'))
    assert [e.seq for e in read_events(path)] == [1]


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2, 3]", "not an event"),
        ({"seq": 2, "time": 1.0}, "not an event"),
        ({"seq": 2, "type": "tick"}, "unknown kind of event ('tick')"),
        ({"seq": 2, "type": "run_started"}, "run_started event of the wrong shape (competition"),
        ({"seq": 2, "type": "node_committed"}, "node_committed event of the wrong shape (node"),
        (
            {"seq": 2, "type": "node_committed", "node": {"id": "x"}},
            "wrong shape (node.operator",
        ),
        ({"seq": 2, "type": "run_ended", "reason": 5}, "run_ended event of the wrong shape"),
    ],
)
def test_a_bad_line_is_skipped_by_name_and_the_rest_kept(
    tmp_path: Path, bad: object, named: str
) -> None:
    path = tmp_path / "journal.jsonl"
    good = NodeCommitted(seq=3, node=node("a")).model_dump(mode="json")
    write_lines(path, {"seq": 1, "type": "run_started", "competition": "c"}, bad, good)
    contents = read_journal(path)
    assert [e.seq for e in contents.events] == [1, 3]
    [message] = contents.skipped
    assert f"{path}: line 2: " in message and named in message and "skipped" in message


def test_a_node_committed_twice_keeps_its_first_record(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.append_sync(RunStarted(competition="c"))
    journal.append_sync(NodeCommitted(node=node("a", metric=0.1)))
    journal.append_sync(NodeCommitted(node=node("a", metric=0.9)))
    journal.append_sync(NodeCommitted(node=node("b", step=2)))
    journal.close()
    contents = read_journal(path)
    nodes = [e.node for e in contents.events if isinstance(e, NodeCommitted)]
    assert [(n.id, n.metric) for n in nodes] == [("a", 0.1), ("b", None)]
    assert ["line 3: node a is committed a second time" in m for m in contents.skipped] == [True]


def test_a_missing_journal_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal at"):
        read_events(tmp_path / "journal.jsonl")


def test_opening_for_append_cuts_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"type": "run_started", "seq": 1, "competition": "c"}) + "\n")
    with path.open("a") as file:
        file.write('{"seq": 2, "type": "node_comm')
    journal = Journal(path)
    journal.start_at(1)
    journal.append_sync(NodeCommitted(node=node("a")))
    journal.close()
    contents = read_journal(path)
    assert [e.seq for e in contents.events] == [1, 2]
    assert contents.skipped == []
    assert path.read_bytes().endswith(b"\n")


def test_cut_torn_tail_keeps_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    assert cut_torn_tail(path) is False  # no file: nothing to do
    path.write_bytes(b"x" * 200_000)  # no newline at all, longer than one read
    assert cut_torn_tail(path) is True
    assert path.read_bytes() == b""
    path.write_bytes(b"a\n" + b"y" * 150_000)
    assert cut_torn_tail(path) is True
    assert path.read_bytes() == b"a\n"
    assert cut_torn_tail(path) is False


def test_time_spent_counts_sessions_not_the_gaps_between_them() -> None:
    def at(event: JournalEvent, when: float) -> JournalEvent:
        return event.model_copy(update={"time": when})

    start, resume = RunStarted(competition="c"), RunResumed(competition="c")
    commit = NodeCommitted(node=node("a"))
    crashed = [at(start, 100.0), at(commit, 130.0)]
    assert time_spent([]) == 0.0
    assert time_spent(crashed) == 30.0
    # Crashed, resumed an hour later, crashed again: the hour is not counted.
    resumed = [*crashed, at(resume, 3700.0), at(commit, 3710.0)]
    assert time_spent(resumed) == 40.0
    # A session that ended says what its budget spent, all sessions included.
    ended = [*resumed, at(RunEnded(reason="done", elapsed=42.0), 3712.0)]
    assert time_spent(ended) == 42.0
    # ... and a later session adds its own span to that.
    assert time_spent([*ended, at(resume, 9000.0), at(commit, 9005.0)]) == 47.0


def test_the_legacy_fixture_is_a_copy_not_rewritten(tmp_path: Path) -> None:
    """Reading never writes; appending to a copy keeps its earlier lines byte for byte."""
    copy = tmp_path / "journal.jsonl"
    shutil.copyfile(LEGACY, copy)
    before = copy.read_bytes()
    journal = Journal(copy)
    journal.start_at(read_journal(copy).last_seq)
    journal.append_sync(RunResumed(competition="digits"))
    journal.close()
    assert copy.read_bytes().startswith(before)
    assert read_events(copy)[-1].seq == 6
