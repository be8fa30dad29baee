"""The journal keeps every whole event and tolerates only a torn last line."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mlmaster.journal import Journal, JournalError, RunDir, read_events


async def test_events_round_trip_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    await journal.append("run_started", competition="c")
    journal.append_sync("node_committed", node={"id": "n1"}, path=tmp_path)
    journal.close()
    events = read_events(tmp_path / "journal.jsonl")
    assert [e["type"] for e in events] == ["run_started", "node_committed"]
    assert [e["seq"] for e in events] == [1, 2]
    assert events[1]["node"] == {"id": "n1"}
    assert events[1]["path"] == str(tmp_path)


def test_half_written_last_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"type": "a", "seq": 1}) + "\n" + '{"type": "b", "se')
    assert [e["type"] for e in read_events(path)] == ["a"]


def test_damaged_middle_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"type": "a"}\nnot json\n{"type": "c"}\n')
    with pytest.raises(JournalError, match="line 2 is damaged"):
        read_events(path)


def test_missing_journal_says_so(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal"):
        read_events(tmp_path / "journal.jsonl")
    with pytest.raises(Exception, match="not a run directory"):
        RunDir.existing(tmp_path)


def test_sigkill_mid_stream_loses_no_acknowledged_event(tmp_path: Path) -> None:
    """A writer killed at a random moment: every event it reported written is there."""
    path = tmp_path / "journal.jsonl"
    code = (
        "import sys\nfrom pathlib import Path\nfrom mlmaster.journal import Journal\n"
        f"j = Journal(Path({str(path)!r}))\n"
        "for i in range(100000):\n"
        "    j.append_sync('tick', i=i, pad='x' * 200)\n"
        "    print(i, flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = -1
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 200:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    events = read_events(path)
    assert len(events) >= acknowledged + 1
    assert [e["i"] for e in events] == list(range(len(events)))


def test_rundir_never_reuses_a_directory(tmp_path: Path) -> None:
    first = RunDir.create(tmp_path, "comp", run_id="r")
    second = RunDir.create(tmp_path, "comp", run_id="r")
    assert first.path != second.path
    assert (second.path / "nodes").is_dir()


def test_best_is_replaced_whole(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path, "comp")
    sub = tmp_path / "s.csv"
    sub.write_text("id,y\n1,2\n")
    run.write_best({"id": "a"}, "print(1)", sub)
    run.write_best({"id": "b"}, "print(2)", None)
    assert json.loads((run.best / "node.json").read_text())["id"] == "b"
    assert not (run.best / "submission.csv").exists()
    leftovers = [p.name for p in run.path.iterdir() if p.name.startswith("best.")]
    assert leftovers == []
