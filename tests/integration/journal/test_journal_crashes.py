"""Real writer processes killed mid-write, or stopped by a full disk: no run is lost to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from mlmaster.bench.micro import placeholder_competition
from mlmaster.journal import NodeCommitted, read_journal
from mlmaster.orchestrator.resume import rebuild
from mlmaster.settings import Settings

# One session of a run: open the journal (as a resume does), commit `count` nodes, then die
# inside the next write with half the line on disk, as a SIGKILL or a power cut leaves it.
WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from mlmaster.journal import Journal, NodeCommitted, RunResumed, RunStarted, read_journal
    from mlmaster.search.node import Node

    path, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    journal = Journal(path)
    journal.start_at(read_journal(path).last_seq if path.stat().st_size else 0)
    session = RunStarted if first == 0 else RunResumed
    journal.append_sync(session(competition="bench-placeholder"))
    for i in range(first, first + count):
        node = Node(id=f"n{i}", parent_id="root", operator="draft", step=i + 1)
        journal.append_sync(NodeCommitted(node=node))
        print(i, flush=True)

    real_write = os.write
    def write_half_then_die(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        os.kill(os.getpid(), signal.SIGKILL)
    os.write = write_half_then_die
    journal.append_sync(NodeCommitted(node=Node(id="torn", parent_id="root", operator="draft")))
    print("not reached", flush=True)
    """
)

# Commits nodes until the file size limit (a full disk, as the writer sees it) stops a write.
FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from mlmaster.journal import Journal, NodeCommitted, RunStarted
    from mlmaster.search.node import Node

    path, limit = Path(sys.argv[1]), int(sys.argv[2])
    journal = Journal(path)
    journal.append_sync(RunStarted(competition="bench-placeholder"))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    for i in range(10_000):
        node = Node(id=f"n{i}", parent_id="root", operator="draft", step=i + 1, plan="p" * 97)
        try:
            journal.append_sync(NodeCommitted(node=node))
        except OSError as error:
            print("failed", error.errno, flush=True)
            break
        print(i, flush=True)
    """
)


def run_writer(path: Path, first: int, count: int) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(path), str(first), str(count)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return [int(line) for line in done.stdout.splitlines() if line.isdigit()]  # not the logs


def committed_ids(path: Path) -> list[str]:
    return [e.node.id for e in read_journal(path).events if isinstance(e, NodeCommitted)]


def test_two_resumes_in_a_row_after_torn_writes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.touch()
    acknowledged: list[int] = []
    for session in range(3):  # the first run, then two resumes; each dies mid-write
        acknowledged += run_writer(path, first=4 * session, count=4)
        assert not path.read_bytes().endswith(b"\n")  # the torn half is on disk
        contents = read_journal(path)
        # Only the last half line is dropped: each resume cut the torn tail before appending.
        assert len(contents.skipped) == 1, contents.skipped
        assert "half written" in contents.skipped[0]
        assert committed_ids(path) == [f"n{i}" for i in acknowledged]
        assert [e.seq for e in contents.events] == list(range(1, len(contents.events) + 1))

    point = rebuild(read_journal(path), Settings(), placeholder_competition(tmp_path))
    assert sorted(n for n in point.tree.nodes if n != "root") == sorted(f"n{i}" for i in range(12))


def test_a_full_disk_mid_write_leaves_the_journal_whole(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    limit = 7_777  # not on a line boundary: the failing write is cut short, then refused
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("failed"), done.stdout
    acknowledged = [int(line) for line in lines if line.isdigit()]
    assert acknowledged  # some events fit before the disk filled

    assert path.read_bytes().endswith(b"\n")  # the half-written event was cut back off
    assert os.path.getsize(path) < limit
    contents = read_journal(path)
    assert contents.skipped == []
    assert committed_ids(path) == [f"n{i}" for i in acknowledged]
